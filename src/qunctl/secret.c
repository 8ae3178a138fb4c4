/*
 * secret.c - reading a password for qunctl without putting it on the
 * command line (where ps, /proc/PID/cmdline and shell history would show
 * it).
 *
 * From a terminal: a prompt on stderr, echo turned off, the password asked
 * twice. Otherwise: exactly one line of stdin (the trailing newline, and a
 * carriage return before it, removed), so scripts pipe it in:
 *   printf '%s\n' "$PW" | qunctl operators create alice --role auditor
 * The caller wipes the buffer after use.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "qunctl/qunctl.h"

/* Reads one line into out (cap bytes, NUL-terminated); -1 at EOF before
 * any byte, -2 when the line does not fit. */
static int read_line(FILE *in, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    int c;
    bool any = false;
    while ((c = fgetc(in)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (n + 1 >= cap) {
            while ((c = fgetc(in)) != EOF && c != '\n')
                ; /* drain the rest of the line */
            return -2;
        }
        out[n++] = (char)c;
    }
    if (!any)
        return -1;
    if (n > 0 && out[n - 1] == '\r')
        n--;
    out[n] = '\0';
    *len = n;
    return 0;
}

static int read_tty(const char *prompt, char *out, size_t cap, size_t *len)
{
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -3;
    quiet = old;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    quiet.c_lflag |= ECHONL;
    fputs(prompt, stderr);
    fflush(stderr);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
        return -3;
    int rc = read_line(stdin, out, cap, len);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    return rc;
}

int qunctl_read_secret(const char *what, char *out, size_t cap, size_t *len)
{
    int rc;
    if (isatty(STDIN_FILENO)) {
        char again[1024];
        size_t len2 = 0;
        char prompt[128];
        snprintf(prompt, sizeof prompt, "%s: ", what);
        rc = read_tty(prompt, out, cap, len);
        if (rc == 0) {
            snprintf(prompt, sizeof prompt, "%s again: ", what);
            rc = read_tty(prompt, again, sizeof again < cap ? sizeof again : cap, &len2);
            if (rc == 0 && (len2 != *len || memcmp(again, out, *len) != 0)) {
                fprintf(stderr, "qunctl: the two entries differ\n");
                rc = -4;
            }
            explicit_bzero(again, sizeof again);
        }
    } else {
        rc = read_line(stdin, out, cap, len);
    }
    if (rc == -1)
        fprintf(stderr, "qunctl: no %s on stdin (give one line, or run on a terminal)\n", what);
    else if (rc == -2)
        fprintf(stderr, "qunctl: the %s is longer than %zu bytes\n", what, cap - 1);
    else if (rc == -3)
        fprintf(stderr, "qunctl: cannot turn off the terminal echo: %s\n", strerror(errno));
    else if (rc == 0 && *len == 0) {
        fprintf(stderr, "qunctl: the %s is empty\n", what);
        rc = -1;
    }
    if (rc != 0)
        explicit_bzero(out, cap);
    return rc == 0 ? 0 : -1;
}
