#ifndef TRAINSET_CPNG_SHIM_H
#define TRAINSET_CPNG_SHIM_H
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

// libpng reports errors by longjmp, which Swift cannot catch or cross. These helpers keep the
// setjmp/longjmp pair inside C and turn every libpng error into a return code plus message.

/// The IHDR fields and palette of a PNG, as stored.
typedef struct {
    png_uint_32 width;
    png_uint_32 height;
    int bit_depth;
    int color_type;
    int interlace;
    /// Samples per pixel as stored: 1 grey or palette, 2 grey+alpha, 3 RGB, 4 RGBA.
    int channels;
    /// Number of PLTE entries (0 when there is no palette).
    int palette_size;
    /// PLTE as RGB triples.
    unsigned char palette[768];
} cpng_header;

typedef struct {
    jmp_buf jump;
    char *message;
    size_t message_size;
} cpng_error_context;

static void cpng_error_fn(png_structp png, png_const_charp text) {
    cpng_error_context *context = (cpng_error_context *)png_get_error_ptr(png);
    snprintf(context->message, context->message_size, "%s", text);
    longjmp(context->jump, 1);
}

// Warnings (bad ancillary chunk CRCs, odd ICC profiles) do not change pixel values; dropping them
// keeps stderr clean, as Pillow does.
static void cpng_warning_fn(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

/// Opens `path` and reads the PNG header into `header`. With `out` non-NULL, also decodes the image
/// into `out` as interleaved rows: bit depths below 8 unpacked to one byte per sample without
/// scaling, 16-bit samples in host byte order, palette images as indices, gamma/sRGB/tRNS ignored.
/// `out_size` must hold height * width * channels * (bit_depth == 16 ? 2 : 1) bytes.
/// Returns 0 on success, -1 if the file cannot be opened (errno is set), 1 on a libpng error
/// (message written to `message`).
static inline int cpng_read(const char *path, cpng_header *header, unsigned char *out,
                            size_t out_size, char *message, size_t message_size) {
    cpng_error_context context;
    context.message = message;
    context.message_size = message_size;
    message[0] = 0;
    FILE *volatile file = fopen(path, "rb");
    if (file == NULL) return -1;
    png_structp volatile png = NULL;
    png_infop volatile info = NULL;
    if (setjmp(context.jump)) {
        png_structp p = png;
        png_infop i = info;
        png_destroy_read_struct(&p, &i, NULL);
        fclose(file);
        return 1;
    }
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, cpng_error_fn, cpng_warning_fn);
    if (png == NULL) {
        snprintf(message, message_size, "out of memory");
        fclose(file);
        return 1;
    }
    info = png_create_info_struct(png);
    if (info == NULL) png_error(png, "out of memory");
    png_set_benign_errors(png, 1);
    png_init_io(png, file);
    png_read_info(png, info);

    memset(header, 0, sizeof *header);
    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    header->width = width;
    header->height = height;
    header->bit_depth = bit_depth;
    header->color_type = color_type;
    header->interlace = interlace;
    header->channels = png_get_channels(png, info);
    png_colorp palette = NULL;
    int palette_size = 0;
    if (png_get_PLTE(png, info, &palette, &palette_size) & PNG_INFO_PLTE) {
        if (palette_size > 256) palette_size = 256;
        header->palette_size = palette_size;
        for (int k = 0; k < palette_size; k++) {
            header->palette[3 * k] = palette[k].red;
            header->palette[3 * k + 1] = palette[k].green;
            header->palette[3 * k + 2] = palette[k].blue;
        }
    }

    if (out != NULL) {
        if (bit_depth < 8) png_set_packing(png);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (bit_depth == 16) png_set_swap(png);
#endif
        int passes = png_set_interlace_handling(png);
        png_read_update_info(png, info);
        size_t row_bytes = png_get_rowbytes(png, info);
        if (height != 0 && row_bytes > out_size / height) png_error(png, "output buffer too small");
        for (int pass = 0; pass < passes; pass++)
            for (png_uint_32 y = 0; y < height; y++) png_read_row(png, out + (size_t)y * row_bytes, NULL);
        // No png_read_end: like Pillow, data after the last IDAT (including IEND) is not needed.
    }
    png_structp p = png;
    png_infop i = info;
    png_destroy_read_struct(&p, &i, NULL);
    fclose(file);
    return 0;
}

#endif
