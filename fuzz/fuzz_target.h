/* The libFuzzer entry points of a fuzz target, declared for -Wmissing-prototypes and for
 * fuzz_replay.c, which runs a corpus through the same target without libFuzzer. */
#ifndef TEP_FUZZ_TARGET_H
#define TEP_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
