/* log.c: leveled messages on stderr, one line each. */
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

enum log_level log_max = LOG_WARN;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (lvl > log_max)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines from the I/O thread and the vCPU thread never interleave. */
	fprintf(stderr, "lbvm: %s%s\n", lvl == LOG_WARN ? "warning: " : "", line);
}
