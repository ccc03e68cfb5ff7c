// Deflate encoders on real export chunks: zlib vs libdeflate vs ISA-L igzip, one core.
//
// Input: a file of equal-sized chunks, already byte-shuffled (what HDF5's shuffle filter hands
// to deflate), written by `deflate_chunks.py`. Each encoder compresses every chunk as a zlib
// stream (what HDF5's deflate filter stores); every stream is decoded again with zlib's
// `uncompress` and compared, so a "fast" result that HDF5 could not read is an error.
// Prints MB/s (uncompressed bytes per second of encoder thread CPU time) and the size ratio.
//
//   cc -O2 -o deflate_bench deflate_bench.c -lz -ldeflate -lisal
//   ./deflate_bench chunks.bin CHUNK_BYTES [repeats]
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

typedef size_t (*encoder)(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int level, void *state);

static size_t with_zlib(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int level, void *state) {
    (void)state;
    uLongf len = cap;
    return compress2(out, &len, in, n, level) == Z_OK ? len : 0;
}

static size_t with_libdeflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int level, void *state) {
    return libdeflate_zlib_compress((struct libdeflate_compressor *)state, in, n, out, cap);
    (void)level;
}

static size_t with_isal(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int level, void *state) {
    struct isal_zstream s;
    isal_deflate_stateless_init(&s);
    s.gzip_flag = IGZIP_ZLIB;
    s.level = level;
    s.level_buf = state;
    s.level_buf_size = level == 0 ? 0 : (level == 1 ? ISAL_DEF_LVL1_DEFAULT : level == 2 ? ISAL_DEF_LVL2_DEFAULT : ISAL_DEF_LVL3_DEFAULT);
    s.next_in = (uint8_t *)in;
    s.avail_in = n;
    s.next_out = out;
    s.avail_out = cap;
    return isal_deflate_stateless(&s) == COMP_OK ? s.total_out : 0;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);  // CPU time: the machine is shared
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s chunks.bin CHUNK_BYTES [repeats]\n", argv[0]); return 2; }
    size_t chunk = strtoul(argv[2], NULL, 10);
    int repeats = argc > 3 ? atoi(argv[3]) : 3;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    size_t total = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t chunks = total / chunk;
    uint8_t *data = malloc(total);
    if (fread(data, 1, total, f) != total) { fprintf(stderr, "short read\n"); return 1; }
    fclose(f);
    size_t cap = compressBound(chunk) + 1024;
    uint8_t *out = malloc(cap), *back = malloc(chunk);
    void *isal_buf = malloc(ISAL_DEF_LVL3_DEFAULT);

    struct { const char *name; encoder fn; int level; } runs[] = {
        {"zlib", with_zlib, 1}, {"zlib", with_zlib, 6},
        {"libdeflate", with_libdeflate, 1}, {"libdeflate", with_libdeflate, 2}, {"libdeflate", with_libdeflate, 4},
        {"isal", with_isal, 0}, {"isal", with_isal, 1}, {"isal", with_isal, 2}, {"isal", with_isal, 3},
    };
    printf("%zu chunks of %zu bytes, per chunk the fastest of %d passes\n", chunks, chunk, repeats);
    printf("| encoder | level | MB/s | ratio |\n|---|---:|---:|---:|\n");
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        struct libdeflate_compressor *ld = runs[r].fn == with_libdeflate ? libdeflate_alloc_compressor(runs[r].level) : NULL;
        void *state = ld ? (void *)ld : isal_buf;
        // Per chunk, the fastest of the passes: the machine is shared, and preemption only
        // ever adds time.
        double best = 0;
        size_t packed = 0;
        for (size_t i = 0; i < chunks; i++) {
            double fastest = 1e30;
            for (int pass = 0; pass < repeats; pass++) {
                double t0 = now();
                size_t n = runs[r].fn(data + i * chunk, chunk, out, cap, runs[r].level, state);
                double t = now() - t0;
                if (t < fastest) fastest = t;
                uLongf back_len = chunk;
                if (n == 0 || uncompress(back, &back_len, out, n) != Z_OK || back_len != chunk ||
                    memcmp(back, data + i * chunk, chunk) != 0) {
                    fprintf(stderr, "%s level %d: chunk %zu does not round-trip through zlib\n", runs[r].name, runs[r].level, i);
                    return 1;
                }
                if (pass == 0) packed += n;
            }
            best += fastest;
        }
        printf("| %s | %d | %.0f | %.3f |\n", runs[r].name, runs[r].level, chunks * chunk / best / 1e6, (double)(chunks * chunk) / packed);
        if (ld) libdeflate_free_compressor(ld);
    }
    return 0;
}
