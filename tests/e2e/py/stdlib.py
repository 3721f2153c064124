# stdlib.py: threads with a queue and a lock, json, hashlib, the sqlite3 module, os.fork and wait, a subprocess pipeline.
import threading, queue, os, json, hashlib, sqlite3, subprocess
q = queue.Queue(); lock = threading.Lock(); total = [0]
def worker():
    while True:
        item = q.get()
        if item is None: break
        with lock: total[0] += item
for i in range(100): q.put(i)
ts = [threading.Thread(target=worker) for _ in range(4)]
for t in ts: t.start()
for _ in ts: q.put(None)
for t in ts: t.join()
print("threads", total[0])
print("json", json.dumps({"a": [1, 2, {"b": None}]}, sort_keys=True))
print("sha256", hashlib.sha256(b"lbvm").hexdigest()[:16])
c = sqlite3.connect(":memory:"); c.execute("create table t(x)"); c.executemany("insert into t values (?)", [(i,) for i in range(1000)])
print("sqlite", c.execute("select count(*), sum(x) from t").fetchone())
pid = os.fork()
if pid == 0: os._exit(7)
print("fork", os.waitpid(pid, 0)[1] >> 8)
print("subprocess", subprocess.run("printf 'b\\na\\n' | sort | tr a-z A-Z", shell=True, capture_output=True, text=True).stdout.split())
