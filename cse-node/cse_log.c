/* Peer-supplied values in log lines (cse_log.h). */
#include "cse_log.h"

const char *cse_log_value(const char *in, char *ret, size_t len)
{
    size_t i;

    if (in == NULL)
        in = "-";
    for (i = 0; in[i] != '\0' && i + 1 < len; i++) {
        unsigned char c = (unsigned char)in[i];
        ret[i] = (c > 0x20 && c < 0x7f && c != '"' && c != '=') ? (char)c : '?';
    }
    ret[i] = '\0';
    return ret;
}
