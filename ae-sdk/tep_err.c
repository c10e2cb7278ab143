/* libtepae: error names and version. The TEP_E* codes are tep's CMN_E* codes. */
#include "cmn_err.h"
#include "tep/tepae.h"

#define SAME(a, b) _Static_assert((int)(a) == (int)(b), #a " must equal " #b)
SAME(TEP_ENOMEM, CMN_ENOMEM);
SAME(TEP_EINVAL, CMN_EINVAL);
SAME(TEP_ENOTFOUND, CMN_ENOTFOUND);
SAME(TEP_EEXIST, CMN_EEXIST);
SAME(TEP_EIO, CMN_EIO);
SAME(TEP_ECRYPTO, CMN_ECRYPTO);
SAME(TEP_ESTORE, CMN_ESTORE);
SAME(TEP_ECORRUPT, CMN_ECORRUPT);
SAME(TEP_ESCHEMA, CMN_ESCHEMA);
SAME(TEP_EBUS, CMN_EBUS);
SAME(TEP_ETIMEOUT, CMN_ETIMEOUT);
SAME(TEP_EAGAIN, CMN_EAGAIN);
SAME(TEP_ECONFIG, CMN_ECONFIG);
SAME(TEP_EPROTO, CMN_EPROTO);
SAME(TEP_EDENIED, CMN_EDENIED);
SAME(TEP_ERANGE, CMN_ERANGE);
SAME(TEP_EEXPIRED, CMN_EEXPIRED);
SAME(TEP_ECOAP, CMN_ECOAP);
SAME(TEP_ESTATE, CMN_ESTATE);

const char *tep_strerror(int err)
{
    return cmn_strerror(err);
}

const char *tep_version(void)
{
    return TEP_VERSION;
}
