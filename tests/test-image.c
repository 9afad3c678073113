/* Image decoding: every PNG colour type and depth we promise, grey and RGB
 * JPEG, grey PNG saving; and every refusal (unknown magic, truncation,
 * corruption, decompression bombs, CMYK) is a one-line error, not a crash.
 * Test images are made here with libpng/libjpeg directly. */
#include <png.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <zlib.h>

#include "hyatt.h"
#include "testutil.h"

/* ---- writing test files ------------------------------------------------- */

static void t_png_write(png_structp png, png_bytep d, size_t n) {
  g_byte_array_append(png_get_io_ptr(png), d, (guint)n);
}

static void t_png_flush(png_structp png) { (void)png; }

typedef struct {
  int w, h, depth, ctype, interlace;
  const png_color *pal;
  int npal;
  const guint8 *trns;
  int ntrns;
  gboolean with_trns; /* check_png_case adds a tRNS chunk */
} png_spec;

static guint8 *find_bytes(GByteArray *b, const char *what, size_t n) {
  for (size_t i = 0; i + n <= b->len; i++)
    if (memcmp(b->data + i, what, n) == 0) return b->data + i;
  return NULL;
}

/* rows: packed as libpng stores them (big-endian 16-bit, MSB-first bits). */
static GByteArray *make_png(const png_spec *s, const guint8 *rows,
                            size_t rowbytes) {
  GByteArray *out = g_byte_array_new();
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  png_bytepp ptrs = g_new(png_bytep, s->h);
  if (setjmp(png_jmpbuf(png))) g_error("test PNG writer failed");
  png_set_write_fn(png, out, t_png_write, t_png_flush);
  png_set_IHDR(png, info, s->w, s->h, s->depth, s->ctype, s->interlace,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (s->pal) png_set_PLTE(png, info, s->pal, s->npal);
  if (s->trns) png_set_tRNS(png, info, s->trns, s->ntrns, NULL);
  png_write_info(png, info);
  for (int y = 0; y < s->h; y++) ptrs[y] = (png_bytep)rows + (size_t)y * rowbytes;
  png_write_image(png, ptrs);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  g_free(ptrs);
  return out;
}

static int channels_of(int ctype) {
  switch (ctype) {
  case PNG_COLOR_TYPE_GRAY: return 1;
  case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
  case PNG_COLOR_TYPE_RGB: return 3;
  case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
  default: return 1; /* palette index */
  }
}

static GByteArray *make_jpeg(int w, int h, int comps, J_COLOR_SPACE cs,
                             const guint8 *px, gboolean progressive) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  unsigned char *mem = NULL;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &mem, &size);
  c.image_width = w;
  c.image_height = h;
  c.input_components = comps;
  c.in_color_space = cs;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 95, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW r = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  GByteArray *out = g_byte_array_new();
  g_byte_array_append(out, mem, (guint)size);
  free(mem);
  return out;
}

/* A smooth grey gradient, mean 0.5 (so truncation cannot go unnoticed). */
static guint8 *gradient(int w, int h, int comps) {
  guint8 *p = g_malloc((size_t)w * h * comps);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < comps; c++)
        p[((size_t)y * w + x) * comps + c] =
            (guint8)(40 + 175.0 * (x + y) / (w + h - 2));
  return p;
}

static void png_chunk(GByteArray *b, const char *type, const guint8 *data,
                      guint32 len) {
  guint8 be[4] = {len >> 24, len >> 16, len >> 8, len};
  g_byte_array_append(b, be, 4);
  g_byte_array_append(b, (const guint8 *)type, 4);
  if (len) g_byte_array_append(b, data, len);
  uLong crc = crc32(0, (const Bytef *)type, 4);
  if (len) crc = crc32(crc, data, len);
  guint8 cb[4] = {crc >> 24, crc >> 16, crc >> 8, crc};
  g_byte_array_append(b, cb, 4);
}

/* A grey 8-bit PNG whose IHDR claims w x h, with a tiny valid IDAT. */
static GByteArray *png_with_ihdr(guint32 w, guint32 h) {
  static const guint8 sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  GByteArray *b = g_byte_array_new();
  g_byte_array_append(b, sig, 8);
  guint8 ihdr[13] = {w >> 24, w >> 16, w >> 8, w, h >> 24, h >> 16, h >> 8, h,
                     8, 0, 0, 0, 0};
  png_chunk(b, "IHDR", ihdr, 13);
  guint8 raw[72] = {0}, z[128]; /* 8 rows of 1 + 8 bytes */
  uLongf zn = sizeof z;
  g_assert_cmpint(compress(z, &zn, raw, sizeof raw), ==, Z_OK);
  png_chunk(b, "IDAT", z, (guint32)zn);
  png_chunk(b, "IEND", NULL, 0);
  return b;
}

/* ---- helpers ------------------------------------------------------------ */

static hy_image decode_ok(const GByteArray *b) {
  hy_image im;
  hy_error err = {0};
  hy_status st = hy_image_decode(&im, b->data, b->len, &err);
  if (st != HY_OK) g_error("decode failed: %s", err.msg);
  return im;
}

static void assert_refused(const void *bytes, size_t n, hy_status want,
                           const char *needle) {
  hy_image im;
  memset(&im, 0x5a, sizeof im);
  hy_error err = {0};
  hy_status st = hy_image_decode(&im, bytes, n, &err);
  if (st != want || (needle && !strstr(err.msg, needle)))
    g_error("expected status %d with \"%s\", got %d: %s", want,
            needle ? needle : "", st, err.msg);
  g_assert_null(im.pixels);
  g_assert_cmpint(im.width, ==, 0);
  g_assert_null(strchr(err.msg, '\n'));
  g_assert_cmpint(strlen(err.msg), >, 10);
  g_test_message("refused %zu bytes: %s", n, err.msg);
}

static double luma(double r, double g, double b) {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/* Packs random samples for spec, returns rows; want[y][x] = expected grey. */
static guint8 *random_png_rows(const png_spec *s, tu_rng *rng, const png_color *pal,
                               double *want, size_t *rowbytes_out) {
  int ch = channels_of(s->ctype);
  int maxv = (1 << s->depth) - 1;
  size_t rowbytes = ((size_t)s->w * ch * s->depth + 7) / 8;
  guint8 *rows = g_malloc0(rowbytes * s->h);
  for (int y = 0; y < s->h; y++) {
    guint8 *row = rows + (size_t)y * rowbytes;
    for (int x = 0; x < s->w; x++) {
      int v[4];
      for (int c = 0; c < ch; c++) {
        v[c] = tu_int(rng, 0, s->ctype == PNG_COLOR_TYPE_PALETTE ? s->npal - 1 : maxv);
        size_t bit = ((size_t)x * ch + c) * s->depth;
        if (s->depth == 16) {
          row[bit / 8] = (guint8)(v[c] >> 8);
          row[bit / 8 + 1] = (guint8)v[c];
        } else {
          row[bit / 8] |= (guint8)(v[c] << (8 - s->depth - bit % 8));
        }
      }
      double g;
      if (s->ctype == PNG_COLOR_TYPE_PALETTE)
        g = luma(pal[v[0]].red, pal[v[0]].green, pal[v[0]].blue) / 255.0;
      else if (ch >= 3)
        g = luma(v[0], v[1], v[2]) / maxv;
      else
        g = (double)v[0] / maxv;
      want[(size_t)y * s->w + x] = g;
    }
  }
  *rowbytes_out = rowbytes;
  return rows;
}

static void check_png_case(const char *what, png_spec s, int want_depth) {
  tu_rng rng = tu_rng_new(42 + s.depth * 7 + s.ctype * 13 + s.interlace);
  png_color pal[16];
  for (int i = 0; i < 16; i++)
    pal[i] = (png_color){(png_byte)tu_int(&rng, 0, 255),
                         (png_byte)tu_int(&rng, 0, 255),
                         (png_byte)tu_int(&rng, 0, 255)};
  guint8 trns[16];
  for (int i = 0; i < 16; i++) trns[i] = (guint8)(i * 16);
  if (s.ctype == PNG_COLOR_TYPE_PALETTE) {
    s.pal = pal;
    s.npal = s.depth >= 4 ? 16 : 1 << s.depth;
  }
  double *want = g_new(double, (size_t)s.w * s.h);
  size_t rowbytes;
  guint8 *rows = random_png_rows(&s, &rng, pal, want, &rowbytes);
  if (s.with_trns) {
    s.trns = trns;
    s.ntrns = s.npal;
  }
  GByteArray *b = make_png(&s, rows, rowbytes);
  hy_image im = decode_ok(b);
  g_assert_cmpint(im.width, ==, s.w);
  g_assert_cmpint(im.height, ==, s.h);
  g_assert_cmpint(im.bit_depth, ==, want_depth);
  float *wf = g_new(float, (size_t)s.w * s.h);
  for (size_t i = 0; i < (size_t)s.w * s.h; i++) wf[i] = (float)want[i];
  /* 16-bit values must survive far below one level, 1/65535. */
  tu_assert_close(what, im.pixels, wf, (size_t)s.w * s.h, 0.1 / 65535, 0);
  hy_image_free(&im);
  g_assert_null(im.pixels);
  g_free(wf);
  g_free(want);
  g_free(rows);
  g_byte_array_unref(b);
}

/* ---- PNG ---------------------------------------------------------------- */

static void test_png_types(void) {
  const int G = PNG_COLOR_TYPE_GRAY, GA = PNG_COLOR_TYPE_GRAY_ALPHA,
            RGB = PNG_COLOR_TYPE_RGB, RGBA = PNG_COLOR_TYPE_RGB_ALPHA,
            P = PNG_COLOR_TYPE_PALETTE, I = PNG_INTERLACE_ADAM7;
  check_png_case("grey 8", (png_spec){.w = 37, .h = 23, .depth = 8, .ctype = G}, 8);
  check_png_case("grey 16", (png_spec){.w = 37, .h = 23, .depth = 16, .ctype = G}, 16);
  check_png_case("grey 1", (png_spec){.w = 37, .h = 23, .depth = 1, .ctype = G}, 8);
  check_png_case("grey 2", (png_spec){.w = 37, .h = 23, .depth = 2, .ctype = G}, 8);
  check_png_case("grey 4", (png_spec){.w = 37, .h = 23, .depth = 4, .ctype = G}, 8);
  check_png_case("grey+alpha 8", (png_spec){.w = 37, .h = 23, .depth = 8, .ctype = GA}, 8);
  check_png_case("grey+alpha 16", (png_spec){.w = 37, .h = 23, .depth = 16, .ctype = GA}, 16);
  check_png_case("rgb 8", (png_spec){.w = 37, .h = 23, .depth = 8, .ctype = RGB}, 8);
  check_png_case("rgb 16", (png_spec){.w = 37, .h = 23, .depth = 16, .ctype = RGB}, 16);
  check_png_case("rgba 8", (png_spec){.w = 37, .h = 23, .depth = 8, .ctype = RGBA}, 8);
  check_png_case("rgba 16", (png_spec){.w = 37, .h = 23, .depth = 16, .ctype = RGBA}, 16);
  check_png_case("palette 8", (png_spec){.w = 37, .h = 23, .depth = 8, .ctype = P}, 8);
  check_png_case("palette 2", (png_spec){.w = 37, .h = 23, .depth = 2, .ctype = P}, 8);
  check_png_case("palette 8 + tRNS",
                 (png_spec){.w = 37, .h = 23, .depth = 8, .ctype = P, .with_trns = TRUE}, 8);
  check_png_case("palette 4 + tRNS",
                 (png_spec){.w = 37, .h = 23, .depth = 4, .ctype = P, .with_trns = TRUE}, 8);
  check_png_case("interlaced grey 8",
                 (png_spec){.w = 37, .h = 23, .depth = 8, .ctype = G, .interlace = I}, 8);
  check_png_case("interlaced rgb 16",
                 (png_spec){.w = 37, .h = 23, .depth = 16, .ctype = RGB, .interlace = I}, 16);
  check_png_case("interlaced grey 1",
                 (png_spec){.w = 5, .h = 3, .depth = 1, .ctype = G, .interlace = I}, 8);
  check_png_case("1x1", (png_spec){.w = 1, .h = 1, .depth = 8, .ctype = G}, 8);
}

/* Specific 16-bit levels, one apart, stay one level apart. */
static void test_png_16bit_precision(void) {
  const guint16 levels[6] = {0, 1, 2, 32767, 65534, 65535};
  guint8 row[12];
  for (int i = 0; i < 6; i++) row[2 * i] = levels[i] >> 8, row[2 * i + 1] = levels[i] & 255;
  png_spec s = {.w = 6, .h = 1, .depth = 16, .ctype = PNG_COLOR_TYPE_GRAY};
  GByteArray *b = make_png(&s, row, sizeof row);
  hy_image im = decode_ok(b);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat(fabs(im.pixels[i] - levels[i] / 65535.0), <, 1e-3 / 65535);
  g_assert_cmpfloat(im.pixels[1], >, 0);
  g_assert_cmpfloat(im.pixels[4], <, 1);
  g_assert_cmpfloat(im.pixels[5], ==, 1);
  hy_image_free(&im);
  g_byte_array_unref(b);
}

static void test_png_save_roundtrip(void) {
  hy_image im = {0};
  hy_error err = {0};
  g_assert_cmpint(hy_image_new(&im, 53, 31, &err), ==, HY_OK);
  g_assert_cmpint(im.bit_depth, ==, 8);
  for (int i = 0; i < 53 * 31; i++) g_assert_cmpfloat(im.pixels[i], ==, 0);
  tu_rng rng = tu_rng_new(7);
  tu_fill(&rng, im.pixels, 53 * 31, -0.2f, 1.2f); /* clamped on save */
  im.pixels[5] = NAN;
  for (int depth = 8; depth <= 16; depth += 8) {
    char *path = g_build_filename(tu_tmpdir(), depth == 8 ? "s8.png" : "s16.png", NULL);
    g_assert_cmpint(hy_image_save_png(&im, path, depth, &err), ==, HY_OK);
    hy_image back;
    g_assert_cmpint(hy_image_load(&back, path, &err), ==, HY_OK);
    g_assert_cmpint(back.width, ==, 53);
    g_assert_cmpint(back.height, ==, 31);
    g_assert_cmpint(back.bit_depth, ==, depth);
    double maxv = depth == 16 ? 65535 : 255;
    for (int i = 0; i < 53 * 31; i++) {
      double v = isnan(im.pixels[i]) ? 0 : fmin(fmax(im.pixels[i], 0), 1);
      g_assert_cmpfloat(fabs(back.pixels[i] - v), <=, 0.5 / maxv + 1e-7);
    }
    hy_image_free(&back);
    g_free(path);
  }
  g_assert_cmpint(hy_image_save_png(&im, "/nonexistent-dir/x.png", 8, &err), !=, HY_OK);
  g_assert_cmpint(hy_image_save_png(&im, "x.png", 12, &err), ==, HY_E_ARG);
  hy_image_free(&im);
  hy_image_free(&im); /* twice is fine */
  g_assert_cmpint(hy_image_new(&im, 0, 5, &err), ==, HY_E_ARG);
  g_assert_null(im.pixels);
}

/* ---- JPEG --------------------------------------------------------------- */

static double mean_of(const hy_image *im) {
  double s = 0;
  for (size_t i = 0; i < (size_t)im->width * im->height; i++) s += im->pixels[i];
  return s / ((double)im->width * im->height);
}

static void test_jpeg_grey_rgb(void) {
  guint8 *g = gradient(64, 48, 1);
  double want = 0;
  for (int i = 0; i < 64 * 48; i++) want += g[i] / 255.0;
  want /= 64 * 48;
  for (int prog = 0; prog <= 1; prog++) {
    GByteArray *b = make_jpeg(64, 48, 1, JCS_GRAYSCALE, g, prog);
    hy_image im = decode_ok(b);
    g_assert_cmpint(im.width, ==, 64);
    g_assert_cmpint(im.height, ==, 48);
    g_assert_cmpint(im.bit_depth, ==, 8);
    g_assert_cmpfloat(fabs(mean_of(&im) - want), <, 2.0 / 255);
    hy_image_free(&im);
    g_byte_array_unref(b);
  }
  g_free(g);

  /* Flat colours in four quadrants: luminance 0.299 R + 0.587 G + 0.114 B. */
  const guint8 cols[4][3] = {{200, 100, 50}, {20, 220, 90}, {250, 250, 250}, {10, 30, 200}};
  guint8 *rgb = g_malloc(64 * 48 * 3);
  for (int y = 0; y < 48; y++)
    for (int x = 0; x < 64; x++)
      memcpy(rgb + (y * 64 + x) * 3, cols[(y >= 24) * 2 + (x >= 32)], 3);
  GByteArray *b = make_jpeg(64, 48, 3, JCS_RGB, rgb, FALSE);
  hy_image im = decode_ok(b);
  for (int q = 0; q < 4; q++) {
    int x = (q & 1) * 32 + 16, y = (q >> 1) * 24 + 12;
    double wantq = luma(cols[q][0], cols[q][1], cols[q][2]) / 255;
    g_assert_cmpfloat(fabs(im.pixels[y * 64 + x] - wantq), <, 3.0 / 255);
  }
  hy_image_free(&im);
  g_byte_array_unref(b);
  g_free(rgb);
}

static void test_jpeg_cmyk_refused(void) {
  guint8 *px = gradient(16, 16, 4);
  GByteArray *b = make_jpeg(16, 16, 4, JCS_CMYK, px, FALSE);
  assert_refused(b->data, b->len, HY_E_FORMAT, "CMYK");
  g_byte_array_unref(b);
  g_free(px);
}

/* ---- refusals ----------------------------------------------------------- */

static GByteArray *sample_png(void) {
  png_spec s = {.w = 40, .h = 30, .depth = 8, .ctype = PNG_COLOR_TYPE_GRAY};
  guint8 *rows = gradient(40, 30, 1);
  GByteArray *b = make_png(&s, rows, 40);
  g_free(rows);
  return b;
}

static void test_refuse_garbage(void) {
  assert_refused("", 0, HY_E_FORMAT, "empty");
  assert_refused(NULL, 0, HY_E_FORMAT, "empty");
  assert_refused("\x13\x9a\x02", 3, HY_E_FORMAT, "starts with 13 9a 02");
  assert_refused("GIF89a\x01\0\x01\0\0\0\0", 13, HY_E_FORMAT, "47 49 46 38: GIF");
  assert_refused("BM\x36\0\0\0\0\0\0\0", 10, HY_E_FORMAT, "42 4d 36 00: BMP");
  assert_refused("II*\0\x08\0\0\0", 8, HY_E_FORMAT, "TIFF");
  assert_refused("\x89PNG\r\n", 6, HY_E_FORMAT, "PNG");
}

static void test_refuse_truncated_png(void) {
  GByteArray *b = sample_png();
  size_t cuts[] = {8, 12, 20, 33, 40, b->len / 2, b->len - 20, b->len - 12,
                   b->len - 5, b->len - 1};
  for (size_t i = 0; i < G_N_ELEMENTS(cuts); i++)
    assert_refused(b->data, cuts[i], HY_E_FORMAT, "PNG");
  hy_image im = decode_ok(b); /* the whole file is fine */
  hy_image_free(&im);
  g_byte_array_unref(b);
}

static void test_refuse_png_crc(void) {
  GByteArray *b = sample_png();
  guint8 *idat = find_bytes(b, "IDAT", 4);
  g_assert_nonnull(idat);
  guint32 len = (guint32)idat[-4] << 24 | idat[-3] << 16 | idat[-2] << 8 | idat[-1];
  idat[4 + len] ^= 0x10; /* a CRC byte */
  assert_refused(b->data, b->len, HY_E_FORMAT, "CRC");
  idat[4 + len] ^= 0x10;
  /* A data byte: zlib's own check may notice before the CRC does. */
  idat[4 + len / 2] ^= 0x10;
  assert_refused(b->data, b->len, HY_E_FORMAT, "corrupt or truncated PNG");
  g_byte_array_unref(b);
}

static void test_refuse_bombs(void) {
  GByteArray *b = png_with_ihdr(30000, 30000);
  assert_refused(b->data, b->len, HY_E_LIMIT, "30000x30000");
  g_byte_array_unref(b);
  b = png_with_ihdr(20000, 20001);
  assert_refused(b->data, b->len, HY_E_LIMIT, "20000x20001");
  g_byte_array_unref(b);
  b = png_with_ihdr(0, 10);
  assert_refused(b->data, b->len, HY_E_FORMAT, "empty image");
  g_byte_array_unref(b);
  b = png_with_ihdr(10, 0);
  assert_refused(b->data, b->len, HY_E_FORMAT, "empty image");
  g_byte_array_unref(b);
  /* The crafted file is otherwise valid: small sizes decode. */
  b = png_with_ihdr(8, 8);
  hy_image im = decode_ok(b);
  g_assert_cmpint(im.width, ==, 8);
  hy_image_free(&im);
  g_byte_array_unref(b);

  /* A JPEG whose SOF claims 30000 x 25000. */
  guint8 *g = gradient(16, 16, 1);
  b = make_jpeg(16, 16, 1, JCS_GRAYSCALE, g, FALSE);
  guint8 *sof = find_bytes(b, "\xff\xc0", 2);
  g_assert_nonnull(sof);
  sof[5] = 25000 >> 8, sof[6] = 25000 & 255; /* height */
  sof[7] = 30000 >> 8, sof[8] = 30000 & 255; /* width */
  assert_refused(b->data, b->len, HY_E_LIMIT, "30000x25000");
  g_byte_array_unref(b);
  g_free(g);
}

static void test_refuse_truncated_jpeg(void) {
  guint8 *g = gradient(64, 48, 1);
  for (int prog = 0; prog <= 1; prog++) {
    GByteArray *b = make_jpeg(64, 48, 1, JCS_GRAYSCALE, g, prog);
    assert_refused(b->data, b->len / 2, HY_E_FORMAT, "JPEG");
    assert_refused(b->data, b->len - 2, HY_E_FORMAT, "JPEG"); /* no EOI */
    assert_refused(b->data, 3, HY_E_FORMAT, "JPEG");
    assert_refused(b->data, 100, HY_E_FORMAT, "JPEG");
    g_byte_array_unref(b);
  }
  g_free(g);
}

/* Nothing reaches stderr, even for corrupt files and libpng warnings. */
static void test_quiet(void) {
  if (g_test_subprocess()) {
    GByteArray *b = sample_png();
    assert_refused(b->data, b->len / 2, HY_E_FORMAT, NULL);
    /* An ancillary chunk with a bad CRC is only a warning: still decodes. */
    static const guint8 text[] = "Comment\0hello";
    GByteArray *t = g_byte_array_new();
    g_byte_array_append(t, b->data, 33);
    png_chunk(t, "tEXt", text, sizeof text - 1);
    t->data[t->len - 1] ^= 1;
    g_byte_array_append(t, b->data + 33, b->len - 33);
    hy_image im = decode_ok(t);
    hy_image_free(&im);
    guint8 *g = gradient(64, 48, 1);
    GByteArray *j = make_jpeg(64, 48, 1, JCS_GRAYSCALE, g, FALSE);
    assert_refused(j->data, j->len / 2, HY_E_FORMAT, NULL);
    j->data[j->len / 2] ^= 0xff;
    hy_error err = {0};
    if (hy_image_decode(&im, j->data, j->len, &err) == HY_OK) hy_image_free(&im);
    g_free(g);
    g_byte_array_unref(j);
    g_byte_array_unref(t);
    g_byte_array_unref(b);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr_unmatched("?*");
}

/* ---- files -------------------------------------------------------------- */

static void test_load_by_magic(void) {
  guint8 *g = gradient(64, 48, 1);
  GByteArray *b = make_jpeg(64, 48, 1, JCS_GRAYSCALE, g, FALSE);
  char *path = g_build_filename(tu_tmpdir(), "really-a-jpeg.png", NULL);
  g_assert_true(g_file_set_contents(path, (const char *)b->data, b->len, NULL));
  hy_image im;
  hy_error err = {0};
  g_assert_cmpint(hy_image_load(&im, path, &err), ==, HY_OK);
  g_assert_cmpint(im.width, ==, 64);
  hy_image_free(&im);

  char *empty = g_build_filename(tu_tmpdir(), "empty.png", NULL);
  g_assert_true(g_file_set_contents(empty, "", 0, NULL));
  g_assert_cmpint(hy_image_load(&im, empty, &err), ==, HY_E_FORMAT);
  g_assert_nonnull(strstr(err.msg, "empty.png"));
  g_assert_null(im.pixels);
  g_test_message("%s", err.msg);

  char *gif = g_build_filename(tu_tmpdir(), "x.png", NULL);
  g_assert_true(g_file_set_contents(gif, "GIF89a\x01\0\x01\0", 10, NULL));
  g_assert_cmpint(hy_image_load(&im, gif, &err), ==, HY_E_FORMAT);
  g_assert_nonnull(strstr(err.msg, "GIF"));
  g_assert_nonnull(strstr(err.msg, "x.png"));

  g_assert_cmpint(hy_image_load(&im, "/nonexistent/nothing.png", &err), ==, HY_E_IO);
  g_free(gif);
  g_free(empty);
  g_free(path);
  g_byte_array_unref(b);
  g_free(g);
}

static void test_isbi_image(void) {
  const char *data = tu_shared_data();
  char *path = data ? g_build_filename(data, "isbi2015", "images", "001.jpg", NULL) : NULL;
  if (!path || !g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_test_skip("shared data isbi2015/images/001.jpg not found");
    g_free(path);
    return;
  }
  hy_image im;
  hy_error err = {0};
  gint64 t0 = g_get_monotonic_time();
  hy_status st = hy_image_load(&im, path, &err);
  gint64 t1 = g_get_monotonic_time();
  if (st != HY_OK) g_error("%s", err.msg);
  g_assert_cmpint(im.width, ==, 1935);
  g_assert_cmpint(im.height, ==, 2400);
  g_assert_cmpint(im.bit_depth, ==, 8);
  float lo = 1, hi = 0;
  for (size_t i = 0; i < (size_t)im.width * im.height; i++) {
    lo = fminf(lo, im.pixels[i]);
    hi = fmaxf(hi, im.pixels[i]);
  }
  double m = mean_of(&im);
  g_assert_cmpfloat(lo, >=, 0);
  g_assert_cmpfloat(hi, <=, 1);
  g_assert_cmpfloat(hi - lo, >, 0.5);
  g_assert_cmpfloat(m, >, 0.05);
  g_assert_cmpfloat(m, <, 0.95);
  g_test_message("001.jpg: mean %.3f, range [%.3f, %.3f], decoded in %.1f ms", m,
                 lo, hi, (t1 - t0) / 1000.0);
  hy_image_free(&im);
  g_free(path);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/image/png-types", test_png_types);
  g_test_add_func("/image/png-16bit-precision", test_png_16bit_precision);
  g_test_add_func("/image/png-save-roundtrip", test_png_save_roundtrip);
  g_test_add_func("/image/jpeg-grey-rgb", test_jpeg_grey_rgb);
  g_test_add_func("/image/jpeg-cmyk-refused", test_jpeg_cmyk_refused);
  g_test_add_func("/image/refuse-garbage", test_refuse_garbage);
  g_test_add_func("/image/refuse-truncated-png", test_refuse_truncated_png);
  g_test_add_func("/image/refuse-png-crc", test_refuse_png_crc);
  g_test_add_func("/image/refuse-bombs", test_refuse_bombs);
  g_test_add_func("/image/refuse-truncated-jpeg", test_refuse_truncated_jpeg);
  g_test_add_func("/image/quiet", test_quiet);
  g_test_add_func("/image/load-by-magic", test_load_by_magic);
  g_test_add_func("/image/isbi-001", test_isbi_image);
  return g_test_run();
}
