#ifndef TRAINSET_CJPEG_SHIM_H
#define TRAINSET_CJPEG_SHIM_H
// jpeglib.h needs size_t and FILE declared before it is included.
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>

// libjpeg's error_exit must not return, and Swift cannot longjmp; these helpers keep the
// setjmp/longjmp pair inside C and turn every libjpeg error into a return code plus message.

#define CJPEG_STRINGIFY_(x) #x
#define CJPEG_STRINGIFY(x) CJPEG_STRINGIFY_(x)

/// The libjpeg-turbo version the module was compiled against, e.g. "2.1.5".
static inline const char *cjpeg_turbo_version(void) {
#ifdef LIBJPEG_TURBO_VERSION
    return CJPEG_STRINGIFY(LIBJPEG_TURBO_VERSION);
#else
    return "";
#endif
}

/// Header fields of a JPEG stream.
typedef struct {
    unsigned int width;
    unsigned int height;
    int components;
    /// J_COLOR_SPACE of the stored data (JCS_GRAYSCALE, JCS_YCbCr, JCS_RGB, JCS_CMYK, JCS_YCCK, ...).
    int color_space;
    int precision;
    int progressive;
} cjpeg_header;

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char *message;
    size_t message_size;
} cjpeg_error_context;

static void cjpeg_error_exit(j_common_ptr cinfo) {
    cjpeg_error_context *context = (cjpeg_error_context *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(context->message, context->message_size, "%s", text);
    longjmp(context->jump, 1);
}

// A file that ends early makes libjpeg warn and pad the image with grey; Pillow refuses such files
// ("image file is truncated"), so that warning is an error here. Other warnings (extraneous bytes
// before a marker) leave the decoded pixels as Pillow returns them and are dropped to keep stderr clean.
static void cjpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0) {
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) cjpeg_error_exit(cinfo);
        cinfo->err->num_warnings++;
    }
}

/// Opens `path` and reads the JPEG header into `header`. With `out` non-NULL, also decodes the image
/// into `out` as interleaved 8-bit rows: greyscale stays grey, everything else is converted to RGB
/// (JDCT_ISLOW, fancy upsampling: libjpeg's defaults, which Pillow uses). `out_size` must hold
/// height * width * (grey ? 1 : 3) bytes. Returns 0 on success, -1 if the file cannot be opened
/// (errno is set), 1 on a libjpeg error (message written to `message`).
static inline int cjpeg_read(const char *path, cjpeg_header *header, unsigned char *out,
                             size_t out_size, char *message, size_t message_size) {
    cjpeg_error_context context;
    struct jpeg_decompress_struct cinfo;
    context.message = message;
    context.message_size = message_size;
    message[0] = 0;
    FILE *volatile file = fopen(path, "rb");
    if (file == NULL) return -1;
    cinfo.err = jpeg_std_error(&context.manager);
    context.manager.error_exit = cjpeg_error_exit;
    context.manager.emit_message = cjpeg_emit_message;
    if (setjmp(context.jump)) {
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, file);
    jpeg_read_header(&cinfo, TRUE);
    header->width = cinfo.image_width;
    header->height = cinfo.image_height;
    header->components = cinfo.num_components;
    header->color_space = cinfo.jpeg_color_space;
    header->precision = cinfo.data_precision;
    header->progressive = cinfo.progressive_mode;

    if (out != NULL) {
        cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
        cinfo.dct_method = JDCT_ISLOW;
        cinfo.do_fancy_upsampling = TRUE;
        jpeg_start_decompress(&cinfo);
        size_t row_bytes = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
        if (cinfo.output_height != 0 && row_bytes > out_size / cinfo.output_height) {
            snprintf(message, message_size, "output buffer too small");
            jpeg_destroy_decompress(&cinfo);
            fclose(file);
            return 1;
        }
        while (cinfo.output_scanline < cinfo.output_height) {
            JSAMPROW row = out + (size_t)cinfo.output_scanline * row_bytes;
            jpeg_read_scanlines(&cinfo, &row, 1);
        }
        // No jpeg_finish_decompress: like Pillow, a missing EOI after the last scan is accepted.
    }
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    return 0;
}

#endif
