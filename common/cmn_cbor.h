/* oneM2M CBOR serialization (TS-0004 V3.32 8.5, RFC 8949) <-> jansson JSON values.
 *
 * The same short-name structure as JSON (TS-0004 8.4): maps with text keys, arrays,
 * text strings, integers (major types 0/1), floats (major type 7), booleans, null.
 * Pure functions on memory: no I/O, no logging, no global state, so a fuzz target can
 * feed them anything. Nesting is bounded (CMN_CBOR_MAX_DEPTH) and every claimed length
 * is checked against the bytes left before anything is allocated.
 *
 * Decoding is liberal where it costs nothing: definite and indefinite lengths, byte
 * strings holding UTF-8 text are read as strings (TS-0004 8.5.2's own examples encode
 * every name as a byte string), half/single/double floats, tags are skipped (but for
 * the bignum and decimal tags 2..5, which JSON cannot hold). Encoding is strict: text
 * strings, shortest-form heads, definite lengths, floats as single precision when that
 * is exact, else double (TS-0004 8.5.1: additional information 26 or 27). */
#ifndef TEP_CMN_CBOR_H
#define TEP_CMN_CBOR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest nesting of arrays, maps and tags, both ways: 32 levels decode, 33 do not. */
#define CMN_CBOR_MAX_DEPTH 32

/* Decodes buf[0..len), exactly one data item, into *ret (json_decref it).
 * CMN_EINVAL: not well-formed CBOR (truncated, reserved additional information, a
 *             lone break, chunks of another type, bytes after the item);
 * CMN_EPROTO: well-formed but no JSON value: a map key that is not a string, a
 *             duplicate key, a NUL in a key, text that is not UTF-8, an integer outside
 *             int64, NaN or infinity, undefined or another simple value, tags 2..5;
 * CMN_ERANGE: nested deeper than CMN_CBOR_MAX_DEPTH;
 * CMN_ENOMEM. */
int cmn_cbor_decode(const uint8_t *buf, size_t len, json_t **ret);

/* Encodes v into *ret (malloc'd, free()), *ret_len bytes. Object members keep
 * jansson's order. CMN_ERANGE deeper than CMN_CBOR_MAX_DEPTH; CMN_EINVAL v NULL;
 * CMN_ENOMEM. */
int cmn_cbor_encode(const json_t *v, uint8_t **ret, size_t *ret_len);

/* CBOR -> compact JSON text (malloc'd, NUL-terminated; free()); errors as decode. */
int cmn_cbor_to_json_text(const uint8_t *buf, size_t len, char **ret);
/* JSON text (len bytes) -> CBOR; CMN_EINVAL when the text is not JSON. */
int cmn_cbor_from_json_text(const char *text, size_t len, uint8_t **ret, size_t *ret_len);

#endif
