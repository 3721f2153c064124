#!/bin/bash
# debian.sh: real Debian programs (the cached bookworm tree of images/debian-tree.sh, packed) run in the VM, each
# compared with the same command run natively in the tree with chroot on the host.
# usage: tests/e2e/debian.sh LBVM E2E_BUILD_DIR   (called by run.sh; prints ok/not ok/skip lines and a summary)
set -u
LBVM=$(realpath "$1")
E=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$HERE/../lib.sh"

TREE=$("$HERE/../../images/debian-tree.sh" 2>"$T/tree.err")
if [ -z "$TREE" ] || [ ! -x "$TREE/usr/bin/python3" ]; then
	bad "the Debian tree (images/debian-tree.sh)" "$(tail -n 5 "$T/tree.err")"
	summary debian
	exit 1
fi
IMG=$T/debian.img
if ! "$LBVM" pack "$TREE" -o "$IMG" --entry /bin/bash --workdir / >"$T/pack.out" 2>&1; then
	bad "pack the Debian tree" "$(tail -n 5 "$T/pack.out")"
	summary debian
	exit 1
fi

# The native runs need /dev/null (perl -e opens it), and the tree's /dev is empty (the guest brings its own):
# each runs in a private mount namespace with a tmpfs on the tree's /dev holding one, so the shared cached tree
# never changes.
native() {
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ unshare -m --propagation private sh -c \
		'mount -t tmpfs lbvm-dev "$0/dev" && mknod -m 666 "$0/dev/null" c 1 3 && exec chroot "$0" "$@"' "$TREE" "$@"
}

# same NAME [FILTER] -- PROG ARGS...: PROG's stdout and status in the VM equal chroot TREE PROG ARGS on the host.
# The native run (chroot) gets the guest's environment (PATH and HOME=/ only). FILTER (a shell pipeline) is applied to both.
same() {
	local name=$1 filter=cat
	[ "$2" != -- ] && { filter=$2; shift; }
	shift 2
	vm_check "$name" || return 0
	timeout 120 "$LBVM" run --entry "$1" "$IMG" "${@:2}" 2>"$T/err" </dev/null | eval "$filter" >"$T/got"
	local st=${PIPESTATUS[0]}
	native "$@" 2>/dev/null </dev/null | eval "$filter" >"$T/want"
	local want_st=${PIPESTATUS[0]}
	if [ "$st" = "$want_st" ] && [ -s "$T/want" ] && cmp -s "$T/want" "$T/got"; then
		ok "$name"
	else
		bad "$name" "status $st (native $want_st)" "$(diff "$T/want" "$T/got" | head -10)" "stderr: $(head -c 400 "$T/err")"
	fi
}

# ls -la /: the image root adds /.lbvm, /dev and /proc are the guest's own, and directory sizes and link counts are
# EROFS's; the names, modes of the rest and the symlinks' targets must match. ls -lA /usr/bin must match exactly.
same "ls -la / (names, symlinks)" "grep -v -e ' \\.lbvm\$' -e '^total ' | awk '{print \$NF, substr(\$1, 1, 1)}'" \
	-- /bin/ls -la /
same "ls -lA /usr/bin (but the total of blocks)" "grep -v '^total '" -- /bin/ls -lA /usr/bin
same "dash arithmetic" -- /bin/dash -c 'echo $((6*7))'
same "sed" -- /bin/sed -n '1,3s/:/;/gp' /etc/passwd
same "grep" -- /bin/grep -n -e root -e daemon /etc/group
same "sort" -- /usr/bin/sort -r /etc/shells
same "file /bin/ls" -- /usr/bin/file /bin/ls
same "perl" -- /usr/bin/perl -e 'print 6*7, "\n"'
same "lua5.4" -- /usr/bin/lua5.4 -e 'print(6*7)'
same "bash arrays and command substitution" -- /bin/bash -c 'a=(1 2 3); echo ${#a[@]} $(echo sub)'
same "sqlite3" -- /usr/bin/sqlite3 :memory: 'select 6*7'
# 10,000 rows: a recursive CTE fills the table, then aggregates, a GROUP BY and an index lookup read it back.
SQL_FILL='create table t(a integer primary key, b integer, c text);
with recursive n(x) as (select 1 union all select x + 1 from n where x < 10000)
insert into t select x, x * 7919 % 101, printf("row%05d", x) from n;
create index tb on t(b);'
SQL_QUERY='select count(*), sum(a), sum(b), max(c) from t;
select b, count(*), min(c) from t group by b order by count(*) desc, b limit 3;
select a, c from t where b = 42 order by a limit 2;'
same "sqlite3: a table of 10,000 rows, an index, aggregates and a query" -- /usr/bin/sqlite3 :memory: "$SQL_FILL$SQL_QUERY"

# Programs that write files, checked against fixed output (run natively they would write into the cached tree).
nl=$'\n'
check "gcc compiles and links a C program that then runs" 0 "42$nl" -- "$LBVM" run "$IMG" -c \
	'echo "int main(void) { return 6 * 7; }" >/tmp/a.c && gcc -O2 -o /tmp/a /tmp/a.c; /tmp/a; echo $?'
check "git init, add, commit, log, status" 0 "first$nl" -- "$LBVM" run "$IMG" -c \
	'cd /tmp && git init -q r && cd r && git config user.email t@e && git config user.name t && echo hi >f &&
	 git add f && git commit -qm first && git log --format=%s && git status --short'
check "make runs a recipe (posix_spawn resets its ids to root's: setresuid)" 0 "made 42$nl" -- "$LBVM" run "$IMG" -c \
	'printf "all:\n\t@echo made \$\$((6*7))\n" >/tmp/Makefile && make -s -C /tmp'
check "perl: becoming root again works, becoming another user is EPERM" 0 "0 ok${nl}0 Operation not permitted$nl" \
	-- "$LBVM" run --entry /usr/bin/perl "$IMG" -e '$> = 0; print "$> ok\n"; $> = 1; print "$> $!\n"'
# make -j2 of a three-file C project built in /tmp: two objects compiled at once (two gcc children and their cc1/as),
# linked, and the program run.
MAKE_PROJ='mkdir -p /tmp/p && cd /tmp/p &&
printf "int sq(int x);\nint twice(int x);\n" >lib.h &&
printf "#include \"lib.h\"\nint sq(int x) { return x * x; }\nint twice(int x) { return 2 * x; }\n" >lib.c &&
printf "#include <stdio.h>\n#include \"lib.h\"\nint main(void) { printf(\"%%d %%d\\\\n\", sq(6), twice(21)); return 0; }\n" >main.c &&
printf "prog: main.o lib.o\n\tgcc -o \$@ main.o lib.o\n%%.o: %%.c lib.h\n\tgcc -O2 -c \$<\n" >Makefile &&
make -s -j2 && ./prog && ls *.o'
check "make -j2 of a three-file C project in /tmp (two .c files and a header), then the program runs" 0 \
	"36 42${nl}lib.o${nl}main.o${nl}" -- "$LBVM" run "$IMG" -c "$MAKE_PROJ"
# The same 10,000 rows inserted one INSERT each in a transaction into a database file in /tmp (journal, fsync, fcntl
# locks), from a pipe; the query must answer what the in-memory database answers natively.
SQL_WANT=$(native /usr/bin/sqlite3 :memory: "$SQL_FILL$SQL_QUERY" 2>&1)$nl
check "sqlite3: 10,000 INSERTs into a database file in /tmp, then the same query" 0 "$SQL_WANT" -- "$LBVM" run "$IMG" -c \
	'{ echo "begin; create table t(a integer primary key, b integer, c text);"
	   seq 10000 | sed "s/.*/insert into t values(&, & * 7919 % 101, printf(\"row%05d\", &));/"
	   echo "create index tb on t(b); commit;"; } | sqlite3 /tmp/db &&
	 sqlite3 /tmp/db '"'$SQL_QUERY'"
check "O_CREAT|O_EXCL creates a new file once (bash noclobber), then refuses" 0 "a$nl" -- "$LBVM" run "$IMG" -c \
	'set -C; echo a >/tmp/x && echo b >/tmp/x 2>/dev/null; cat /tmp/x'

same "python3 -c" -- /usr/bin/python3 -c 'print(6*7)'
# The issue's python3 programs (tests/e2e/py/, mounted read-only); the expected text is what Debian 12's own python3
# prints for them on the host (a bare chroot has no /dev/shm for multiprocessing).
PY=$(realpath "$HERE/py")
check "python3: threads with a queue and a lock, json, hashlib, sqlite3, os.fork and wait, a subprocess pipeline" 0 \
	"threads 4950${nl}json {\"a\": [1, 2, {\"b\": null}]}${nl}sha256 e7f7ccdc1b1d0cbe${nl}sqlite (1000, 499500)${nl}fork 7${nl}subprocess ['A', 'B']${nl}" \
	-- "$LBVM" run --mount "$PY:/py" --entry /usr/bin/python3 "$IMG" /py/stdlib.py
check "python3: multiprocessing.Pool(2)" 0 "pool 328350${nl}" -- "$LBVM" run --mount "$PY:/py" --entry /usr/bin/python3 "$IMG" /py/pool.py
check "python3 -m unittest: a small suite" 0 "OK${nl}" -- "$LBVM" run --mount "$PY:/py" "$IMG" -c \
	'cd /py && python3 -B -m unittest -q test_small 2>&1 | tail -n 1'
check "bash: a trap, arrays, command substitution, a background job and wait, job control" 0 "3 sub${nl}trapped${nl}job 0${nl}1${nl}" \
	-- "$LBVM" run "$IMG" -c 'trap "echo trapped" USR1; a=(x y z); echo ${#a[@]} $(echo sub); kill -USR1 $$; sleep 0.2 & wait $!; echo job $?; set -m; sleep 0.1 & jobs | wc -l; wait'

summary debian
