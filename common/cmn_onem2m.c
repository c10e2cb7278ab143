/* oneM2M response status codes: their names (TS-0004 6.6) and the CoAP response code
 * each maps to (TS-0008 V3.9.0 Table 6.2.4-1, reproduced row by row). */
#include "cmn_onem2m.h"

#include <stddef.h>

/* libcoap's COAP_RESPONSE_CODE(N) for N = class*100 + detail, computed here so that
 * this file does not depend on libcoap. */
#define COAP_CODE(cls, detail) ((uint8_t)((cls) << 5 | (detail)))

typedef struct {
    unsigned rsc;
    uint8_t cls, detail; /* 0, 0: no fixed CoAP code (see cmn_rsc_to_coap) */
    const char *name;
} rsc_row;

static const rsc_row rsc_table[] = {
    {1000, 0, 0, "ACCEPTED"}, /* "not used" on CoAP */
    {1001, 2, 1, "ACCEPTED_NON_BLOCKING_REQUEST_SYNCH"},
    /* 2.01 only if a <request> resource was created; tep creates none: 2.04 */
    {1002, 2, 4, "ACCEPTED_NON_BLOCKING_REQUEST_ASYNCH"},
    {2000, 0, 0, "OK"}, /* by operation: RETRIEVE 2.05, others 2.04 */
    {2001, 2, 1, "CREATED"},
    {2002, 2, 2, "DELETED"},
    {2004, 2, 4, "UPDATED"},
    {4000, 4, 0, "BAD_REQUEST"},
    {4001, 5, 1, "RELEASE_VERSION_NOT_SUPPORTED"},
    {4004, 4, 4, "NOT_FOUND"},
    {4005, 4, 5, "OPERATION_NOT_ALLOWED"},
    {4008, 5, 4, "REQUEST_TIMEOUT"},
    {4015, 4, 15, "UNSUPPORTED_MEDIA_TYPE"},
    {4101, 4, 3, "SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE"},
    {4102, 4, 0, "CONTENTS_UNACCEPTABLE"},
    {4103, 4, 3, "ORIGINATOR_HAS_NO_PRIVILEGE"},
    {4104, 4, 0, "GROUP_REQUEST_IDENTIFIER_EXISTS"},
    {4105, 4, 3, "CONFLICT"},
    {4106, 4, 3, "ORIGINATOR_NOT_AUTHENTICATED"},
    {4107, 4, 3, "SECURITY_ASSOCIATION_REQUIRED"},
    {4108, 4, 3, "INVALID_CHILD_RESOURCE_TYPE"},
    {4109, 4, 3, "NO_MEMBERS"},
    {4110, 4, 0, "GROUP_MEMBER_TYPE_INCONSISTENT"},
    {4111, 4, 3, "ESPRIM_UNSUPPORTED_OPTION"},
    {4112, 4, 3, "ESPRIM_UNKNOWN_KEY_ID"},
    {4113, 4, 3, "ESPRIM_UNKNOWN_ORIG_RAND_ID"},
    {4114, 4, 3, "ESPRIM_UNKNOWN_RECV_RAND_ID"},
    {4115, 4, 3, "ESPRIM_BAD_MAC"},
    {4116, 4, 3, "ESPRIM_IMPERSONATION_ERROR"},
    {4117, 4, 3, "ORIGINATOR_HAS_ALREADY_REGISTERED"},
    {4118, 4, 4, "ONTOLOGY_NOT_AVAILABLE"},
    {4119, 4, 4, "LINKED_SEMANTICS_NOT_AVAILABLE"},
    {4120, 4, 2, "INVALID_SEMANTICS"},
    {4121, 4, 4, "MASHUP_MEMBER_NOT_FOUND"},
    {4122, 4, 2, "INVALID_TRIGGER_PURPOSE"},
    {4123, 4, 0, "ILLEGAL_TRANSACTION_STATE_TRANSITION_ATTEMPTED"},
    {4124, 4, 0, "BLOCKING_SUBSCRIPTION_ALREADY_EXISTS"},
    {4125, 5, 1, "SPECIALIZATION_SCHEMA_NOT_FOUND"},
    {4126, 4, 3, "APP_RULE_VALIDATION_FAILED"},
    {4127, 4, 3, "OPERATION_DENIED_BY_REMOTE_ENTITY"},
    {4143, 4, 0, "INVALID_SPARQL_QUERY"},
    {5000, 5, 0, "INTERNAL_SERVER_ERROR"},
    {5001, 5, 1, "NOT_IMPLEMENTED"},
    {5103, 4, 4, "TARGET_NOT_REACHABLE"},
    {5105, 4, 3, "RECEIVER_HAS_NO_PRIVILEGE"},
    {5106, 4, 0, "ALREADY_EXISTS"},
    {5107, 4, 4, "REMOTE_ENTITY_NOT_REACHABLE"},
    {5203, 4, 3, "TARGET_NOT_SUBSCRIBABLE"},
    {5204, 5, 0, "SUBSCRIPTION_VERIFICATION_INITIATION_FAILED"},
    {5205, 4, 3, "SUBSCRIPTION_HOST_HAS_NO_PRIVILEGE"},
    {5206, 5, 1, "NON_BLOCKING_SYNCH_REQUEST_NOT_SUPPORTED"},
    {5207, 4, 6, "NOT_ACCEPTABLE"},
    {5208, 4, 3, "DISCOVERY_DENIED_BY_IPE"},
    {5209, 5, 0, "GROUP_MEMBERS_NOT_RESPONDED"},
    {5210, 5, 0, "ESPRIM_DECRYPTION_ERROR"},
    {5211, 5, 0, "ESPRIM_ENCRYPTION_ERROR"},
    {5212, 5, 0, "SPARQL_UPDATE_ERROR"},
    {5214, 4, 3, "TARGET_HAS_NO_SESSION_CAPABILITY"},
    {5215, 4, 3, "SESSION_IS_ONLINE"},
    {5216, 5, 0, "JOIN_MULTICAST_GROUP_FAILED"},
    {5217, 5, 0, "LEAVE_MULTICAST_GROUP_FAILED"},
    {5218, 4, 3, "TRIGGERING_DISABLED_FOR_RECIPIENT"},
    {5219, 4, 0, "UNABLE_TO_REPLACE_REQUEST"},
    {5220, 4, 0, "UNABLE_TO_RECALL_REQUEST"},
    {5221, 5, 0, "CROSS_RESOURCE_OPERATION_FAILURE"},
    {5222, 4, 3, "TRANSACTION_PROCESSING_IS_INCOMPLETE"},
    {6003, 4, 4, "EXTERNAL_OBJECT_NOT_REACHABLE"},
    {6005, 4, 4, "EXTERNAL_OBJECT_NOT_FOUND"},
    {6010, 4, 0, "MAX_NUMBER_OF_MEMBER_EXCEEDED"},
    {6020, 5, 0, "MGMT_SESSION_CANNOT_BE_ESTABLISHED"},
    {6021, 5, 0, "MGMT_SESSION_ESTABLISHMENT_TIMEOUT"},
    {6022, 4, 0, "INVALID_CMDTYPE"},
    {6023, 4, 0, "INVALID_ARGUMENTS"},
    {6024, 4, 0, "INSUFFICIENT_ARGUMENTS"},
    {6025, 5, 0, "MGMT_CONVERSION_ERROR"},
    {6026, 5, 0, "MGMT_CANCELLATION_FAILED"},
    {6028, 4, 0, "ALREADY_COMPLETE"},
    {6029, 4, 0, "MGMT_COMMAND_NOT_CANCELLABLE"},
    {6030, 5, 4, "EXTERNAL_OBJECT_NOT_REACHABLE_BEFORE_RQET_TIMEOUT"},
    {6031, 5, 4, "EXTERNAL_OBJECT_NOT_REACHABLE_BEFORE_OET_TIMEOUT"},
};

static const rsc_row *find_row(unsigned rsc)
{
    for (size_t i = 0; i < sizeof(rsc_table) / sizeof(rsc_table[0]); i++) {
        if (rsc_table[i].rsc == rsc)
            return &rsc_table[i];
    }
    return NULL;
}

uint8_t cmn_rsc_to_coap(unsigned rsc, int op)
{
    const rsc_row *row;

    if (rsc == CMN_RSC_OK)
        return op == CMN_OP_RETRIEVE ? COAP_CODE(2, 5) : COAP_CODE(2, 4);
    row = find_row(rsc);
    if (row == NULL || row->cls == 0) /* unknown, or ACCEPTED (1000), unused on CoAP */
        return COAP_CODE(5, 0);
    return COAP_CODE(row->cls, row->detail);
}

const char *cmn_rsc_name(unsigned rsc)
{
    const rsc_row *row = find_row(rsc);

    return row != NULL ? row->name : "UNKNOWN";
}
