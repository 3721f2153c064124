# pool.py: multiprocessing.Pool(2) (POSIX semaphores in /dev/shm, shared futexes between processes).
import multiprocessing
def sq(x): return x * x
if __name__ == "__main__":
    with multiprocessing.Pool(2) as p:
        print("pool", sum(p.map(sq, range(100))))
