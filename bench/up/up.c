/*
 * up: the program of bench/run.sh's `words` part, a stand-in for the usual
 * Procfile entry (`bin/server`, `bundle exec puma`): one program named by a
 * plain word list, no shell syntax. It prints "up $PS" on stdout, as the
 * stack's shell command does, then waits for a signal; SIGTERM ends it (the
 * default action). bench/run.sh builds it with cc (dynamically linked, like
 * most programs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	const char *ps = getenv("PS");

	printf("up %s\n", ps ? ps : "");
	if (fflush(stdout) != 0)
		return 1;
	for (;;)
		pause();
}
