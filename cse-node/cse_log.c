/* Peer-supplied values in log lines (cse_log.h). */
#include "cse_log.h"

#include "cmn_log.h"

const char *cse_log_value(const char *in, char *ret, size_t len)
{
    return cmn_log_value(in, ret, len);
}
