#include "image.h"

#include <png.h>

#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "fileio.h"

/* Rec. 601 luma weights (they sum to exactly 1). */
#define LUMA_R 0.299f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

hy_status hy_image_new(hy_image *out, int width, int height, hy_error *err) {
  memset(out, 0, sizeof *out);
  if (width <= 0 || height <= 0)
    return hy_fail(err, HY_E_ARG, "image size %dx%d: both sides must be positive",
                   width, height);
  if ((size_t)width > SIZE_MAX / sizeof(float) / (size_t)height)
    return hy_fail(err, HY_E_LIMIT, "image size %dx%d does not fit in memory",
                   width, height);
  float *p = calloc((size_t)width * (size_t)height, sizeof *p);
  if (!p)
    return hy_fail(err, HY_E_NOMEM, "no memory for a %dx%d image", width,
                   height);
  out->width = width;
  out->height = height;
  out->bit_depth = 8;
  out->pixels = p;
  return HY_OK;
}

void hy_image_free(hy_image *img) {
  if (!img) return;
  free(img->pixels);
  memset(img, 0, sizeof *img);
}

/* Decompression bombs: the header is checked before any pixel is allocated. */
static hy_status check_size(const char *name, const char *fmt, uint32_t w,
                            uint32_t h, hy_error *err) {
  if (w == 0 || h == 0)
    return hy_fail(err, HY_E_FORMAT, "%s: %s header says %ux%u pixels: an empty image",
                   name, fmt, (unsigned)w, (unsigned)h);
  if (w > HY_IMAGE_MAX_SIDE || h > HY_IMAGE_MAX_SIDE)
    return hy_fail(err, HY_E_LIMIT,
                   "%s: %s is %ux%u pixels, over the limit of %d pixels per side",
                   name, fmt, (unsigned)w, (unsigned)h, HY_IMAGE_MAX_SIDE);
  if ((long long)w * (long long)h > HY_IMAGE_MAX_PIXELS)
    return hy_fail(err, HY_E_LIMIT,
                   "%s: %s is %ux%u pixels, over the limit of %lld megapixels",
                   name, fmt, (unsigned)w, (unsigned)h,
                   HY_IMAGE_MAX_PIXELS / 1000000);
  return HY_OK;
}

/* ---- PNG ---------------------------------------------------------------- */

typedef struct png_job {
  const unsigned char *data;
  size_t n, pos;
  char msg[256];      /* libpng's error message */
  unsigned char *raw; /* owned: one row, or every row when interlaced */
  hy_image img;       /* being filled */
} png_job;

static void png_on_error(png_structp png, png_const_charp msg) {
  png_job *j = png_get_error_ptr(png);
  snprintf(j->msg, sizeof j->msg, "%s", msg);
  png_longjmp(png, 1);
}

/* Warnings (bad ancillary chunks, odd ICC profiles) do not stop decoding and
 * must not reach stderr. */
static void png_on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

static void png_read_mem(png_structp png, png_bytep dst, size_t len) {
  png_job *j = png_get_io_ptr(png);
  if (len > j->n - j->pos) png_error(png, "unexpected end of data");
  memcpy(dst, j->data + j->pos, len);
  j->pos += len;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void png_row_to_grey(float *dst, const unsigned char *src, int w,
                            int channels, int depth) {
  if (depth == 16) {
    const float k = 1.0f / 65535.0f;
    for (int x = 0; x < w; x++) {
      const unsigned char *s = src + (size_t)x * channels * 2;
      if (channels >= 3) {
        float r = (float)(s[0] << 8 | s[1]), g = (float)(s[2] << 8 | s[3]),
              b = (float)(s[4] << 8 | s[5]);
        float v = (LUMA_R * r + LUMA_G * g + LUMA_B * b) * k;
        dst[x] = v < 1.0f ? v : 1.0f;
      } else {
        dst[x] = (float)(s[0] << 8 | s[1]) * k;
      }
    }
  } else {
    const float k = 1.0f / 255.0f;
    for (int x = 0; x < w; x++) {
      const unsigned char *s = src + (size_t)x * channels;
      if (channels >= 3) {
        float v = (LUMA_R * s[0] + LUMA_G * s[1] + LUMA_B * s[2]) * k;
        dst[x] = v < 1.0f ? v : 1.0f;
      } else {
        dst[x] = (float)s[0] * k;
      }
    }
  }
}

/* Runs under libpng's setjmp: everything that must survive a longjmp lives
 * in *j, which belongs to the caller's frame. */
static hy_status png_decode_rows(png_structp png, png_infop info, png_job *j,
                                 const char *name, hy_error *err) {
  if (setjmp(png_jmpbuf(png)))
    return hy_fail(err, HY_E_FORMAT, "%s: corrupt or truncated PNG (%s)", name,
                   j->msg);
  png_set_read_fn(png, j, png_read_mem);
  /* Every ancillary chunk is skipped unread (only IHDR, PLTE, tRNS, IDAT and
   * IEND are processed): none is used, and libpng would allocate a text
   * chunk's declared length, up to 2 GB, before reading it. */
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
  png_read_info(png, info);

  png_uint_32 w, h;
  int depth, ctype, interlace;
  png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
  hy_status st = check_size(name, "PNG", w, h, err);
  if (st != HY_OK) return st;

  if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  png_set_strip_alpha(png);
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);

  int channels = png_get_channels(png, info);
  int out_depth = png_get_bit_depth(png, info);
  size_t rowbytes = png_get_rowbytes(png, info);
  if ((out_depth != 8 && out_depth != 16) || channels < 1 ||
      rowbytes < (size_t)w * channels * (out_depth / 8))
    return hy_fail(err, HY_E_FORMAT,
                   "%s: unexpected PNG layout after expansion (%d channels of %d bits)",
                   name, channels, out_depth);

  /* An interlaced image arrives in passes, so all its rows are kept. */
  size_t raw_rows = passes > 1 ? h : 1;
  if (rowbytes > SIZE_MAX / raw_rows)
    return hy_fail(err, HY_E_LIMIT, "%s: PNG rows do not fit in memory", name);
  j->raw = malloc(rowbytes * raw_rows);
  if (!j->raw)
    return hy_fail(err, HY_E_NOMEM, "%s: no memory for %zu bytes of PNG rows",
                   name, rowbytes * raw_rows);
  st = hy_image_new(&j->img, (int)w, (int)h, err);
  if (st != HY_OK) return st;
  j->img.bit_depth = depth == 16 ? 16 : 8;

  if (passes > 1) {
    for (int p = 0; p < passes; p++)
      for (png_uint_32 y = 0; y < h; y++)
        png_read_row(png, j->raw + y * rowbytes, NULL);
  }
  for (png_uint_32 y = 0; y < h; y++) {
    unsigned char *row = j->raw;
    if (passes > 1)
      row += y * rowbytes;
    else
      png_read_row(png, row, NULL);
    png_row_to_grey(j->img.pixels + (size_t)y * w, row, (int)w, channels,
                    out_depth);
  }
  /* Also reads up to IEND, so a file cut after its pixel data is refused. */
  png_read_end(png, NULL);
  return HY_OK;
}

static hy_status decode_png(hy_image *out, const unsigned char *data, size_t n,
                            const char *name, hy_error *err) {
  /* Checked here too, so even a header followed by garbage gets HY_E_LIMIT. */
  if (n >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
    hy_status st = check_size(name, "PNG", be32(data + 16), be32(data + 20), err);
    if (st != HY_OK) return st;
  }
  png_job j = {.data = data, .n = n};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &j,
                                           png_on_error, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  hy_status st = info ? png_decode_rows(png, info, &j, name, err)
                      : hy_fail(err, HY_E_NOMEM, "%s: no memory for a PNG decoder", name);
  png_destroy_read_struct(&png, &info, NULL);
  free(j.raw);
  if (st != HY_OK) {
    hy_image_free(&j.img);
    return st;
  }
  *out = j.img;
  return HY_OK;
}

/* ---- JPEG --------------------------------------------------------------- */

typedef struct jpeg_job {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr mgr;
  jmp_buf jmp;
  char msg[JMSG_LENGTH_MAX];
  hy_image img; /* being filled */
} jpeg_job;

/* cinfo is the first member, so libjpeg's pointer leads back to the job. */
static void jpeg_on_error(j_common_ptr c) {
  jpeg_job *j = (jpeg_job *)(void *)c;
  c->err->format_message(c, j->msg);
  longjmp(j->jmp, 1);
}

/* Warnings that mean lost image data (above all JWRN_JPEG_EOF: a truncated
 * file otherwise decodes "successfully" with grey padding) become errors;
 * harmless ones are counted, and trace messages ignored. Nothing is printed. */
static void jpeg_on_message(j_common_ptr c, int level) {
  if (level >= 0) return;
  switch (c->err->msg_code) {
  case JWRN_ADOBE_XFORM:
  case JWRN_BOGUS_ICC:
  case JWRN_EXTRANEOUS_DATA:
  case JWRN_JFIF_MAJOR:
    c->err->num_warnings++;
    return;
  default:
    jpeg_on_error(c);
  }
}

static void jpeg_quiet(j_common_ptr c) { (void)c; }

static hy_status jpeg_decode_rows(jpeg_job *j, const unsigned char *data,
                                  size_t n, const char *name, hy_error *err) {
  struct jpeg_decompress_struct *c = &j->cinfo;
  if (setjmp(j->jmp))
    return hy_fail(err, HY_E_FORMAT, "%s: corrupt or truncated JPEG (%s)",
                   name, j->msg);
  jpeg_create_decompress(c);
  jpeg_mem_src(c, data, (unsigned long)n);
  jpeg_read_header(c, TRUE);
  hy_status st = check_size(name, "JPEG", c->image_width, c->image_height, err);
  if (st != HY_OK) return st;
  switch (c->jpeg_color_space) {
  case JCS_GRAYSCALE:
  case JCS_YCbCr:
  case JCS_RGB:
    /* libjpeg gives Y directly (Rec. 601 luma) and skips the chroma IDCTs. */
    c->out_color_space = JCS_GRAYSCALE;
    break;
  case JCS_CMYK:
  case JCS_YCCK:
    return hy_fail(err, HY_E_FORMAT,
                   "%s: CMYK/YCCK JPEG is not supported (save it as grey or RGB)",
                   name);
  default:
    return hy_fail(err, HY_E_FORMAT,
                   "%s: JPEG with %d components in an unknown colour space is not supported",
                   name, c->num_components);
  }
  jpeg_start_decompress(c);
  if (c->output_components != 1)
    return hy_fail(err, HY_E_FORMAT, "%s: JPEG decoder gave %d channels, expected 1",
                   name, c->output_components);
  st = hy_image_new(&j->img, (int)c->output_width, (int)c->output_height, err);
  if (st != HY_OK) return st;
  JSAMPARRAY row = c->mem->alloc_sarray((j_common_ptr)c, JPOOL_IMAGE,
                                        c->output_width, 1);
  const float k = 1.0f / 255.0f;
  const int w = (int)c->output_width;
  while (c->output_scanline < c->output_height) {
    float *dst = j->img.pixels + (size_t)c->output_scanline * w;
    if (jpeg_read_scanlines(c, row, 1) != 1)
      return hy_fail(err, HY_E_FORMAT, "%s: JPEG decoder stopped at row %u of %d",
                     name, c->output_scanline, j->img.height);
    for (int x = 0; x < w; x++) dst[x] = (float)row[0][x] * k;
  }
  jpeg_finish_decompress(c);
  return HY_OK;
}

static hy_status decode_jpeg(hy_image *out, const unsigned char *data, size_t n,
                             const char *name, hy_error *err) {
#if SIZE_MAX > ULONG_MAX
  if (n > ULONG_MAX)
    return hy_fail(err, HY_E_LIMIT, "%s: JPEG of %zu bytes is too large", name, n);
#endif
  jpeg_job *j = calloc(1, sizeof *j);
  if (!j) return hy_fail(err, HY_E_NOMEM, "%s: no memory for a JPEG decoder", name);
  j->cinfo.err = jpeg_std_error(&j->mgr);
  j->mgr.error_exit = jpeg_on_error;
  j->mgr.emit_message = jpeg_on_message;
  j->mgr.output_message = jpeg_quiet;
  hy_status st = jpeg_decode_rows(j, data, n, name, err);
  jpeg_destroy_decompress(&j->cinfo);
  if (st == HY_OK) *out = j->img;
  else hy_image_free(&j->img);
  free(j);
  return st;
}

/* ---- format detection --------------------------------------------------- */

static const char *guess_format(const unsigned char *b, size_t n) {
  if (n >= 4 && memcmp(b, "GIF8", 4) == 0) return "GIF";
  if (n >= 2 && memcmp(b, "BM", 2) == 0) return "BMP";
  if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0))
    return "TIFF";
  if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
    return "WebP";
  if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0) return "HEIF/AVIF";
  if ((n >= 8 && memcmp(b, "\0\0\0\x0cjP  ", 8) == 0) ||
      (n >= 4 && memcmp(b, "\xff\x4f\xff\x51", 4) == 0))
    return "JPEG 2000";
  if (n >= 132 && memcmp(b + 128, "DICM", 4) == 0) return "DICOM";
  if (n >= 4 && memcmp(b, "%PDF", 4) == 0) return "PDF";
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return "gzip";
  if (n >= 4 && memcmp(b, "PK\3\4", 4) == 0) return "zip";
  if (n >= 4 && memcmp(b, "\x89PNG", 4) == 0) return "damaged PNG signature";
  if (n >= 2 && b[0] == 0xff && b[1] == 0xd8) return "damaged JPEG";
  return NULL;
}

static hy_status decode_named(hy_image *out, const void *bytes, size_t n,
                              const char *name, hy_error *err) {
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  const unsigned char *b = bytes;
  memset(out, 0, sizeof *out);
  if (!b || n == 0) return hy_fail(err, HY_E_FORMAT, "%s: empty, not an image", name);
  if (n >= 8 && memcmp(b, png_sig, 8) == 0) return decode_png(out, b, n, name, err);
  if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
    return decode_jpeg(out, b, n, name, err);
  char hex[16] = "";
  for (size_t i = 0, len = 0; i < n && i < 4; i++)
    len += (size_t)snprintf(hex + len, sizeof hex - len, "%s%02x", i ? " " : "", b[i]);
  const char *guess = guess_format(b, n);
  return hy_fail(err, HY_E_FORMAT,
                 "%s: not a PNG or JPEG image (%zu bytes, starts with %s%s%s)",
                 name, n, hex, guess ? ": " : "", guess ? guess : "");
}

hy_status hy_image_decode(hy_image *out, const void *bytes, size_t n,
                          hy_error *err) {
  return decode_named(out, bytes, n, "image data", err);
}

hy_status hy_image_load(hy_image *out, const char *path, hy_error *err) {
  memset(out, 0, sizeof *out);
  void *data = NULL;
  size_t len = 0;
  hy_status st = hy_read_file(path, HY_IMAGE_MAX_FILE_BYTES, &data, &len, err);
  if (st != HY_OK) return st;
  st = decode_named(out, data, len, path, err);
  free(data);
  return st;
}

/* ---- PNG encoding ------------------------------------------------------- */

typedef struct png_out {
  unsigned char *data; /* owned: the encoded file */
  size_t n, cap;
  unsigned char *row;  /* owned: one row of samples */
  char msg[256];
} png_out;

static void png_write_mem(png_structp png, png_bytep src, size_t len) {
  png_out *o = png_get_io_ptr(png);
  if (len > o->cap - o->n) {
    size_t cap = o->cap ? o->cap : 65536;
    while (cap - o->n < len) {
      if (cap > SIZE_MAX / 2) png_error(png, "encoded PNG too large");
      cap *= 2;
    }
    unsigned char *p = realloc(o->data, cap);
    if (!p) png_error(png, "out of memory");
    o->data = p;
    o->cap = cap;
  }
  memcpy(o->data + o->n, src, len);
  o->n += len;
}

static void png_flush_mem(png_structp png) { (void)png; }

static void png_on_write_error(png_structp png, png_const_charp msg) {
  png_out *o = png_get_error_ptr(png);
  snprintf(o->msg, sizeof o->msg, "%s", msg);
  png_longjmp(png, 1);
}

static hy_status png_encode_rows(png_structp png, png_infop info, png_out *o,
                                 const hy_image *img, int depth,
                                 const char *path, hy_error *err) {
  if (setjmp(png_jmpbuf(png)))
    return hy_fail(err, HY_E_IO, "%s: PNG encoding failed (%s)", path, o->msg);
  png_set_write_fn(png, o, png_write_mem, png_flush_mem);
  png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height,
               depth, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  o->row = malloc((size_t)img->width * (depth / 8));
  if (!o->row)
    return hy_fail(err, HY_E_NOMEM, "%s: no memory for a PNG row", path);
  const float maxv = depth == 16 ? 65535.0f : 255.0f;
  for (int y = 0; y < img->height; y++) {
    const float *src = img->pixels + (size_t)y * img->width;
    for (int x = 0; x < img->width; x++) {
      float v = src[x];
      v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; /* NaN -> 0 */
      unsigned q = (unsigned)(v * maxv + 0.5f);
      if (depth == 16) {
        o->row[2 * x] = (unsigned char)(q >> 8);
        o->row[2 * x + 1] = (unsigned char)q;
      } else {
        o->row[x] = (unsigned char)q;
      }
    }
    png_write_row(png, o->row);
  }
  png_write_end(png, NULL);
  return HY_OK;
}

hy_status hy_image_save_png(const hy_image *img, const char *path,
                            int bit_depth, hy_error *err) {
  if (!img || !img->pixels || img->width <= 0 || img->height <= 0)
    return hy_fail(err, HY_E_ARG, "%s: no image to save", path);
  if (bit_depth != 8 && bit_depth != 16)
    return hy_fail(err, HY_E_ARG, "%s: PNG bit depth %d, expected 8 or 16", path,
                   bit_depth);
  if (img->width > HY_IMAGE_MAX_SIDE || img->height > HY_IMAGE_MAX_SIDE)
    return hy_fail(err, HY_E_LIMIT, "%s: image is %dx%d pixels, over the limit of %d per side",
                   path, img->width, img->height, HY_IMAGE_MAX_SIDE);
  png_out o = {0};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &o,
                                            png_on_write_error, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  hy_status st = info ? png_encode_rows(png, info, &o, img, bit_depth, path, err)
                      : hy_fail(err, HY_E_NOMEM, "%s: no memory for a PNG encoder", path);
  png_destroy_write_struct(&png, &info);
  if (st == HY_OK) st = hy_write_file_atomic(path, o.data, o.n, err);
  free(o.row);
  free(o.data);
  return st;
}
