// The Go runtime in lbvm: goroutines on several threads (GOMAXPROCS 4), channels, sync.Mutex and WaitGroup,
// time.Sleep and timers, garbage collection under allocation pressure, signal.Notify of a SIGUSR1 the program sends
// itself, a tight loop the scheduler must preempt (async preemption: SIGURG sent with tgkill), and os/exec of itself.
// Everything it prints is the same on every run and every machine: compared with the native run (tests/e2e/run.sh).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func goroutines() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 2000; j++ {
				mu.Lock()
				total += i
				mu.Unlock()
				if j%500 == 0 {
					runtime.Gosched()
				}
			}
		}(i)
	}
	wg.Wait()
	fmt.Println("mutex and waitgroup:", total)
}

// A pipeline of unbuffered channels: a generator, four squarers, a summer.
func channels() {
	in := make(chan int)
	out := make(chan int, 8)
	go func() {
		for i := 1; i <= 1000; i++ {
			in <- i
		}
		close(in)
	}()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				out <- v * v
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	sum := 0
	for v := range out {
		sum += v
	}
	fmt.Println("channel pipeline:", sum)
}

func timers() {
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	slept := time.Since(start) >= 20*time.Millisecond
	var order []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, d := range []int{30, 10, 20} {
		wg.Add(1)
		d := d
		time.AfterFunc(time.Duration(d)*time.Millisecond, func() {
			mu.Lock()
			order = append(order, fmt.Sprint(d))
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	tk := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	timeout := time.After(2 * time.Second)
	for ticks < 5 {
		select {
		case <-tk.C:
			ticks++
		case <-timeout:
			ticks = 100
		}
	}
	tk.Stop()
	sort.Strings(order) // AfterFunc starts each function in a goroutine: they may run in any order
	fmt.Println("sleep at least 20 ms:", slept, "timers fired:", strings.Join(order, " "), "ticks:", ticks)
}

type node struct {
	next *node
	data [64]byte
}

// About 290 MB allocated in all, a few MB live at a time: the collector must run many times, with its workers.
func gc() {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var keep *node
	for round := 0; round < 32; round++ {
		var list *node
		for i := 0; i < 100000; i++ {
			list = &node{next: list}
			list.data[0] = byte(i)
		}
		if round%8 == 0 {
			keep = list
		}
		big := make([]byte, 1<<20)
		big[len(big)-1] = 1
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := 0
	for p := keep; p != nil; p = p.next {
		n++
	}
	fmt.Println("gc: collections > 5:", after.NumGC-before.NumGC > 5, "allocated > 250 MB:",
		after.TotalAlloc-before.TotalAlloc > 250<<20, "kept list intact:", n)
}

func signals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case s := <-ch:
		fmt.Println("signal.Notify:", s)
	case <-time.After(5 * time.Second):
		fmt.Println("signal.Notify: nothing in 5 s")
	}
	signal.Stop(ch)
}

// A goroutine spinning without function calls can only be stopped by a signal (SIGURG, sent by sysmon with tgkill):
// with one P, the sleeping goroutine runs again only if the spinner is preempted.
func preemption() {
	runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(4)
	var stop int32
	done := make(chan bool)
	var spins uint64
	go func() {
		for atomic.LoadInt32(&stop) == 0 { // no call, so no cooperative preemption point
			spins++
		}
		done <- true
	}()
	time.Sleep(10 * time.Millisecond) // returns only if the spinner, on the one P, is preempted
	atomic.StoreInt32(&stop, 1)
	<-done
	fmt.Println("preempted a tight loop: the sleep beside it returned")
}

func child() {
	fmt.Print("child: args ", strings.Join(os.Args[1:], " "), ", stdin ")
	buf := make([]byte, 64)
	n, _ := os.Stdin.Read(buf)
	fmt.Printf("%q\n", buf[:n])
	os.Exit(3)
}

func execSelf() {
	cmd := exec.Command("/proc/self/exe", "child", "x")
	cmd.Stdin = strings.NewReader("from the parent")
	out, err := cmd.Output()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	fmt.Printf("os/exec: %sexit %d\n", out, code)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		child()
	}
	runtime.GOMAXPROCS(4)
	for _, phase := range []func(){goroutines, channels, timers, gc, signals, preemption, execSelf} {
		start := time.Now()
		phase()
		if os.Getenv("GOTEST_TIMES") != "" {
			fmt.Fprintln(os.Stderr, "phase took", time.Since(start))
		}
	}
	var names []string
	for _, e := range []string{"GOMAXPROCS"} {
		names = append(names, fmt.Sprint(e, "=", runtime.GOMAXPROCS(0)))
	}
	sort.Strings(names)
	fmt.Println("done:", strings.Join(names, " "))
}
