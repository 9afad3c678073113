/* Writes the seed inputs that the project's own writers make, one folder per
 * fuzz target under argv[1]: PNGs (hy_image_save_png), JPEGs with libjpeg
 * (what ImageMagick does not write: arithmetic coding, restart markers, odd
 * sampling), tensor files (the tensorfile writer), a tiny model and
 * checkpoint (hy_model_save) and landmark texts. fuzz/make-corpus adds image
 * variants made by ImageMagick.
 * `make-seeds --repair IN OUT` writes IN with its CRCs repaired as the model
 * target does (crc_repair.h): what the loader saw, for tests/regress. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "crc_repair.h"
#include "fileio.h"
#include "image.h"
#include "model.h"
#include "net.h"
#include "tensorfile.h"

static const char *root;

static void die(const char *what, const hy_error *err) {
  fprintf(stderr, "make-seeds: %s: %s\n", what, err ? err->msg : "failed");
  exit(1);
}

static const char *at(const char *dir, const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s/%s", root, dir, name);
  return buf;
}

static void text(const char *dir, const char *name, const char *s) {
  FILE *f = fopen(at(dir, name), "wb");
  if (!f || fwrite(s, 1, strlen(s), f) != strlen(s) || fclose(f) != 0) die(name, NULL);
}

static void images(void) {
  hy_error err = {0};
  const int sizes[][2] = {{1, 1}, {37, 23}, {64, 3}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    hy_image img;
    if (hy_image_new(&img, sizes[i][0], sizes[i][1], &err) != HY_OK) die("image", &err);
    for (int y = 0; y < img.height; y++)
      for (int x = 0; x < img.width; x++)
        img.pixels[y * img.width + x] = (float)((x * 7 + y * 13) % 17) / 16.0f;
    for (int depth = 8; depth <= 16; depth += 8) {
      char name[64];
      snprintf(name, sizeof name, "grey%d-%dx%d.png", depth, img.width, img.height);
      if (hy_image_save_png(&img, at("image", name), depth, &err) != HY_OK) die(name, &err);
    }
    hy_image_free(&img);
  }
}

/* A 3-component (or grey) JPEG written with libjpeg's own options. */
static void jpeg(const char *name, int components, int arith, int restart, int hsamp,
                 int vsamp, int progressive) {
  enum { W = 35, H = 21 };
  FILE *f = fopen(at("image", name), "wb");
  if (!f) die(name, NULL);
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  c.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = W;
  c.image_height = H;
  c.input_components = components;
  c.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 75, TRUE);
  c.arith_code = arith ? TRUE : FALSE;
  c.restart_interval = (unsigned)restart;
  c.comp_info[0].h_samp_factor = hsamp;
  c.comp_info[0].v_samp_factor = vsamp;
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  JSAMPLE row[W * 3];
  while (c.next_scanline < H) {
    for (int x = 0; x < W * components; x++) row[x] = (JSAMPLE)((x * 11 + (int)c.next_scanline * 29) & 255);
    JSAMPROW rows[1] = {row};
    jpeg_write_scanlines(&c, rows, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  if (fclose(f) != 0) die(name, NULL);
}

static void jpegs(void) {
  jpeg("arith.jpg", 3, 1, 0, 2, 2, 0);
  jpeg("arith-progressive.jpg", 3, 1, 0, 2, 1, 1);
  jpeg("restart.jpg", 3, 0, 1, 2, 2, 0);
  jpeg("restart-grey.jpg", 1, 0, 2, 1, 1, 0);
  jpeg("s411.jpg", 3, 0, 0, 4, 1, 0);
  jpeg("s13.jpg", 3, 0, 0, 1, 3, 1);
}

static void tensorfiles(void) {
  hy_error err = {0};
  static const float f[24] = {0, 1, -1, 0.5f, 2, 3, 4, 5, 6, 7, 8, 9,
                              10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21};
  static const int32_t n[3] = {7, -7, 1 << 30};
  const int64_t d0[1] = {0}, d3[1] = {3}, d234[3] = {2, 3, 4}, d1111[4] = {1, 2, 3, 4};

  hy_tensorfile_writer *w = hy_tensorfile_writer_new();
  hy_tensorfile_writer_meta(w, "format", "fixture");
  if (hy_tensorfile_writer_save(w, at("tensorfile", "meta-only.hyatt"), &err) != HY_OK) die("meta-only", &err);
  hy_tensorfile_writer_free(w);

  w = hy_tensorfile_writer_new();
  hy_tensorfile_writer_meta(w, "format", "fixture");
  hy_tensorfile_writer_meta(w, "op.stride", "%d", 2);
  hy_tensorfile_writer_meta(w, "note", "a value with = and spaces");
  hy_tensorfile_writer_add(w, "x", HY_F32, f, 3, d234);
  hy_tensorfile_writer_add(w, "idx", HY_I32, n, 1, d3);
  hy_tensorfile_writer_add(w, "scalar", HY_F32, f, 0, NULL);
  hy_tensorfile_writer_add(w, "empty", HY_F32, f, 1, d0);
  hy_tensorfile_writer_add(w, "optim/m@1", HY_F32, f, 4, d1111);
  if (hy_tensorfile_writer_save(w, at("tensorfile", "mixed.hyatt"), &err) != HY_OK) die("mixed", &err);
  hy_tensorfile_writer_free(w);

  w = hy_tensorfile_writer_new();
  hy_tensorfile_writer_add(w, "w", HY_F32, f, 1, d3);
  if (hy_tensorfile_writer_save(w, at("tensorfile", "one.hyatt"), &err) != HY_OK) die("one", &err);
  hy_tensorfile_writer_free(w);
}

static void models(void) {
  hy_error err = {0};
  hy_net_config cfg;
  hy_net *net = NULL;
  if (hy_net_config_named(&cfg, "tiny", &err) != HY_OK ||
      hy_net_create(&net, &cfg, 1, HY_INFER, 1, &err) != HY_OK)
    die("tiny net", &err);
  hy_net_init_seeded(net, 1);
  hy_model_info info;
  memset(&info, 0, sizeof info);
  strcpy(info.landmark_set, "fuzz");
  info.landmark_count = cfg.landmarks;
  for (int k = 0; k < cfg.landmarks; k++) snprintf(info.landmark_names[k], HY_MODEL_NAME_MAX, "L%d", k + 1);
  info.spacing_mm = 0.1;
  strcpy(info.dataset, "fuzz seeds");
  strcpy(info.created, "2025-01-01T00:00:00Z");
  strcpy(info.hyatt_version, "0.1.0");
  if (hy_model_save(net, &info, at("model", "tiny.hyatt"), &err) != HY_OK) die("tiny model", &err);

  static const float m[4] = {0.5f, -0.5f, 1, 0};
  static const int32_t step[1] = {3};
  const hy_model_extra_tensor xt[2] = {{"optim/m", HY_F32, m, 1, {4}},
                                       {"optim/step", HY_I32, step, 0, {0}}};
  const hy_model_extra_meta xm[1] = {{"optim.lr", "0.001"}};
  const hy_model_extra extra = {xt, 2, xm, 1};
  if (hy_model_save_ex(net, &info, &extra, at("model", "tiny-checkpoint.hyatt"), &err) != HY_OK)
    die("tiny checkpoint", &err);
  hy_net_free(net);
}

static void landmarks(void) {
  text("landmarks", "hand.csv", "image,l1_x,l1_y,l2_x,l2_y\n3001,10.5,20,30,40.25\n3002,1e2,2E-1,+3,-4\n");
  text("landmarks", "isbi.csv",
       "\xEF\xBB\xBFImage,Split,L1_X,L1_Y\r\n\"001\",train,835,996\r\n\r\n002 , test1 , 1.5 , 2\r\n003,test2,0,0");
  text("landmarks", "isbi-19.txt",
       "835,996\n1473,1029\n1289,1279\n604,1228\n1375,1654\n1386,2017\n1333,2178\n1263,2238\n"
       "1243,2157\n641,1899\n1501,1851\n1496,1803\n1656,1646\n1663,1914\n1357,2121\n893,2001\n"
       "1468,1521\n1443,1517\n1086,1559\n2\n3\n1\n");
  text("landmarks", "points.txt", "1,2\r\n\r\n3.5 , 4.25\n");
}

static int repair(const char *in, const char *out) {
  hy_error err = {0};
  void *data = NULL;
  size_t n = 0;
  if (hy_read_file(in, (size_t)1 << 30, &data, &n, &err) != HY_OK) die(in, &err);
  fuzz_repair_crcs(data, n);
  if (hy_write_file_atomic(out, data, n, &err) != HY_OK) die(out, &err);
  free(data);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--repair") == 0) return repair(argv[2], argv[3]);
  if (argc != 2) {
    fprintf(stderr, "usage: make-seeds DIR (makes DIR/image, DIR/tensorfile, DIR/model, DIR/landmarks)\n");
    return 2;
  }
  root = argv[1];
  images();
  jpegs();
  tensorfiles();
  models();
  landmarks();
  return 0;
}
