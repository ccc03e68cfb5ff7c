#ifndef TRAINSET_CISAL_SHIM_H
#define TRAINSET_CISAL_SHIM_H
// ISA-L's igzip: a deflate encoder that emits standard streams (any inflate decodes them).
// Its version and level-buffer sizes are macros, which Swift cannot import.
#include <isa-l.h>
#include <isa-l/igzip_lib.h>

static inline unsigned cisal_version(void) { return ISAL_VERSION; }
/// Level 2 with the small level buffer: 16 Ki-token deflate blocks, each with its own
/// Huffman table (the default large buffer codes whole tiles with one table and compresses
/// image tiles 5 % worse than zlib level 1; this compresses them as well as zlib level 1).
static inline int cisal_level(void) { return 2; }
static inline unsigned cisal_level_buffer_size(void) { return ISAL_DEF_LVL2_SMALL; }
static inline unsigned short cisal_no_flush(void) { return NO_FLUSH; }
static inline unsigned short cisal_raw_deflate(void) { return IGZIP_DEFLATE; }
#endif
