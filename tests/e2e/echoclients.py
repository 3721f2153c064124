#!/usr/bin/env python3
"""echoclients.py: N concurrent TCP clients of an echo server; each sends its own bytes and checks every one echoed back.
usage: echoclients.py HOST PORT N BYTES   prints one line: how many clients got every byte back."""
import hashlib, socket, sys, threading, time

host, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ok = []

def client(i):
    data = hashlib.sha256(str(i).encode()).digest() * (size // 32 + 1)
    data = data[:size]
    for attempt in range(50):
        try:
            s = socket.create_connection((host, port), timeout=30)
            break
        except OSError:
            time.sleep(0.1)
    else:
        return
    got = bytearray()
    def reader():
        try:
            while len(got) < size:
                b = s.recv(65536)
                if not b:
                    break
                got.extend(b)
        except OSError:
            pass
    t = threading.Thread(target=reader)
    t.start()
    try:
        s.sendall(data)
    except OSError:
        pass
    t.join(30)
    s.close()
    if bytes(got) == data:
        ok.append(i)

threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
print("%d of %d clients got every byte back" % (len(ok), n))
