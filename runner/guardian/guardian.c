/*
 * proctor's guardian, compiled for Linux x86-64 without a C library.
 *
 * It does what guardScript in ../guard.go does, event for event and rule for
 * rule (the Go tests run both on the same input), in 24 to 28 KiB of memory
 * instead of the 1.7 MiB of a shell: a page of code, the data it touches
 * and the stack, nothing else. See ../guard.go for the protocol
 * and why the guardian exists; build.sh turns this file into
 * guardian-linux-amd64, which proctor embeds and runs from a memfd.
 *
 * Arguments (argv[0] is the memfd's path): the name (proctor-guardian), the
 * grace period in milliseconds, and "list" only in tests, which makes it
 * print what it read at end of file instead of stopping anything.
 *
 * Limits the script does not have: a line longer than LINE_MAX bytes is
 * ignored, and groups beyond MAX_GROUPS listed at once are not listed (their
 * processes still carry the token, which is searched for as well). Unlike
 * the script it reads NUL bytes as text; proctor writes none. The list is
 * searched linearly: 65536 groups would cost a second of CPU in all, 100
 * nothing worth measuring.
 */

typedef unsigned long size_t;
typedef long ssize_t;

#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_rt_sigaction 13
#define SYS_nanosleep 35
#define SYS_getpid 39
#define SYS_kill 62
#define SYS_prctl 157
#define SYS_getdents64 217
#define SYS_exit_group 231

#define O_RDONLY 0
#define O_DIRECTORY 0200000
#define O_CLOEXEC 02000000
#define PR_SET_NAME 15
#define SIG_IGN 1
#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGKILL 9
#define SIGPIPE 13
#define SIGTERM 15
#define SIGCONT 18

#define LINE_MAX 4096
#define MAX_GROUPS 65536
#define TOKEN_VAR "PROCTOR_GUARD_TOKEN="
#define TOKEN_VAR_LEN (sizeof TOKEN_VAR - 1)

static long syscall4(long n, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys1(n, a) syscall4(n, (long)(a), 0, 0, 0)
#define sys2(n, a, b) syscall4(n, (long)(a), (long)(b), 0, 0)
#define sys3(n, a, b, c) syscall4(n, (long)(a), (long)(b), (long)(c), 0)

static size_t length(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int same(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* The groups to stop, in the order they were added. */
static int groups[MAX_GROUPS];
static int ngroups;
static int self;

/* The run's token, as "PROCTOR_GUARD_TOKEN=TOKEN". */
static char needle[TOKEN_VAR_LEN + LINE_MAX];
static size_t needle_len;

static void add(int id)
{
	for (int i = 0; i < ngroups; i++)
		if (groups[i] == id)
			return;
	if (ngroups < MAX_GROUPS)
		groups[ngroups++] = id;
}

static void removegroup(int id)
{
	for (int i = 0; i < ngroups; i++)
		if (groups[i] == id) {
			for (ngroups--; i < ngroups; i++)
				groups[i] = groups[i + 1];
			return;
		}
}

/* group returns the group id a "+" or "-" line names, or 0 when the line
 * names none: digits without a leading zero, more than 1, fewer than ten. */
static int group(const char *s, size_t n)
{
	if (n == 0 || n > 9 || s[0] == '0')
		return 0;
	int id = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		id = id * 10 + (s[i] - '0');
	}
	return id == 1 ? 0 : id;
}

/* event handles one line of input; it returns 1 on bye. */
static int event(const char *s, size_t n)
{
	if (n == 3 && same(s, "bye", 3))
		return 1;
	if (n >= 2 && s[0] == '=') {
		for (size_t i = 1; i < n; i++)
			needle[TOKEN_VAR_LEN + i - 1] = s[i];
		needle_len = TOKEN_VAR_LEN + n - 1;
	} else if (n >= 2 && (s[0] == '+' || s[0] == '-')) {
		int id = group(s + 1, n - 1);
		if (id == 0)
			return 0;
		if (s[0] == '+')
			add(id);
		else
			removegroup(id);
	}
	return 0;
}

/* number parses the decimal number at the start of s, up to 18 digits. */
static long number(const char *s, const char *end)
{
	long v = 0;
	for (int digits = 0; s < end && *s >= '0' && *s <= '9' && digits < 18; digits++)
		v = v * 10 + (*s++ - '0');
	return v;
}

static char buf[LINE_MAX];

/* readall reads path into buf (at most its size); it returns the length,
 * or -1. */
static ssize_t readall(const char *path)
{
	long fd = sys3(SYS_open, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t n = 0, r = 0;
	while (n < (ssize_t)sizeof buf && (r = sys3(SYS_read, fd, buf + n, sizeof buf - n)) > 0)
		n += r;
	sys1(SYS_close, fd);
	return r < 0 ? -1 : n;
}

/* carries reports whether the environment in path holds needle as one
 * whole entry. */
static int carries(const char *path)
{
	long fd = sys3(SYS_open, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	size_t at = 0; /* bytes of the entry so far, or needle_len + 1: no match */
	int found = 0;
	ssize_t r;
	while (!found && (r = sys3(SYS_read, fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < r && !found; i++) {
			if (buf[i] == 0) {
				found = at == needle_len;
				at = 0;
			} else if (at < needle_len && buf[i] == needle[at])
				at++;
			else
				at = needle_len + 1;
		}
	sys1(SYS_close, fd);
	return found || at == needle_len;
}

/* carriers adds the group of every process whose environment holds the
 * token, where /proc is this process's PID namespace's. */
static void carriers(void)
{
	if (needle_len == 0)
		return;
	ssize_t n = readall("/proc/self/stat");
	if (n <= 0 || number(buf, buf + n) != self)
		return;
	long dir = sys3(SYS_open, "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dir < 0)
		return;
	static char ents[4096];
	char path[64];
	long got;
	while ((got = sys3(SYS_getdents64, dir, ents, sizeof ents)) > 0) {
		for (long off = 0; off < got;) {
			/* struct linux_dirent64: d_reclen at 16 (little-endian), d_name at 19 */
			long reclen = (unsigned char)ents[off + 16] | (unsigned char)ents[off + 17] << 8;
			if (reclen <= 19)
				break;
			const char *name = ents + off + 19;
			off += reclen;
			size_t len = length(name);
			int digits = len > 0 && len < 20;
			for (size_t i = 0; i < len && digits; i++)
				digits = name[i] >= '0' && name[i] <= '9';
			if (!digits)
				continue;
			/* path = /proc/NAME/environ, later /proc/NAME/stat */
			char *p = path;
			for (const char *s = "/proc/"; *s;)
				*p++ = *s++;
			for (size_t i = 0; i < len; i++)
				*p++ = name[i];
			char *tail = p;
			for (const char *s = "/environ"; (*p++ = *s++);)
				;
			if (!carries(path))
				continue;
			p = tail;
			for (const char *s = "/stat"; (*p++ = *s++);)
				;
			ssize_t m = readall(path);
			if (m <= 0)
				continue;
			/* after the last ") ": state, parent, group */
			ssize_t i = m - 2;
			while (i > 0 && !(buf[i] == ')' && buf[i + 1] == ' '))
				i--;
			if (i == 0)
				continue;
			const char *s = buf + i + 2, *end = buf + m;
			for (int field = 0; field < 2 && s < end; field++) {
				while (s < end && *s != ' ')
					s++;
				s++;
			}
			long pgrp = number(s, end);
			if (pgrp > 1 && pgrp != self && pgrp < 1000000000)
				add((int)pgrp);
		}
	}
	sys1(SYS_close, dir);
}

static int alive(int g)
{
	return sys2(SYS_kill, -g, 0) == 0;
}

/* stop sends SIGTERM (and SIGCONT) to every listed group, waits up to
 * ticks times 20 ms for them to empty, kills what is left and empties the
 * list. */
static void stop(long ticks)
{
	int left = 0;
	for (int i = 0; i < ngroups; i++) {
		int g = groups[i];
		if (sys2(SYS_kill, -g, SIGTERM) == 0)
			sys2(SYS_kill, -g, SIGCONT);
		if (alive(g))
			groups[left++] = g;
	}
	ngroups = left;
	struct {
		long sec, nsec;
	} tick = {0, 20000000};
	while (ngroups > 0 && ticks-- > 0) {
		sys2(SYS_nanosleep, &tick, 0);
		left = 0;
		for (int i = 0; i < ngroups; i++)
			if (alive(groups[i]))
				groups[left++] = groups[i];
		ngroups = left;
	}
	for (int i = 0; i < ngroups; i++)
		sys2(SYS_kill, -groups[i], SIGKILL);
	ngroups = 0;
}

static char out[64];

/* put appends s to out, writing out whenever it fills. */
static size_t put(size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (n == sizeof out) {
			sys3(SYS_write, 1, out, n);
			n = 0;
		}
		out[n++] = s[i];
	}
	return n;
}

/* list prints what the guardian read, as the script does in its test mode. */
static void list(void)
{
	size_t n = put(0, "token=", 6);
	n = put(n, needle + TOKEN_VAR_LEN, needle_len ? needle_len - TOKEN_VAR_LEN : 0);
	n = put(n, "\ngroups= ", 9);
	for (int i = 0; i < ngroups; i++) {
		char d[12];
		int k = sizeof d;
		for (int v = groups[i]; v > 0; v /= 10)
			d[--k] = '0' + v % 10;
		n = put(n, d + k, sizeof d - k);
		n = put(n, " ", 1);
	}
	n = put(n, "\n", 1);
	sys3(SYS_write, 1, out, n);
}

static void quit(int code)
{
	sys1(SYS_exit_group, code);
	for (;;)
		;
}

static char in[4096];
static char line[LINE_MAX];

void guardian(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	const char *arg = argc > 2 ? argv[2] : "0";
	long grace = number(arg, arg + length(arg));
	int listing = argc > 3 && length(argv[3]) == 4 && same(argv[3], "list", 4);

	struct {
		long handler, flags, restorer, mask;
	} ignore = {SIG_IGN, 0, 0, 0};
	static const int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		syscall4(SYS_rt_sigaction, ignored[i], (long)&ignore, 0, 8);
	sys2(SYS_prctl, PR_SET_NAME, "proctor-guardia");
	self = (int)sys1(SYS_getpid, 0);
	for (size_t i = 0; i < TOKEN_VAR_LEN; i++)
		needle[i] = TOKEN_VAR[i];

	size_t n = 0;
	int overlong = 0;
	ssize_t r;
	while ((r = sys3(SYS_read, 0, in, sizeof in)) != 0) {
		if (r < 0) {
			if (r == -4) /* EINTR */
				continue;
			break;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (in[i] != '\n') {
				if (n < sizeof line)
					line[n++] = in[i];
				else
					overlong = 1;
				continue;
			}
			if (!overlong && event(line, n))
				quit(0);
			n = 0;
			overlong = 0;
		}
	}
	if (n > 0 && !overlong && event(line, n))
		quit(0);
	if (listing) {
		list();
		quit(0);
	}
	carriers();
	stop(grace / 20);
	carriers();
	stop(0);
	quit(0);
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call guardian\n"
	"	hlt\n");
