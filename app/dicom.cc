/* dicom.h through dcmtk (dcmdata, dcmimgle and its JPEG, JPEG-LS and RLE
 * decoders). */
#include "dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>
#include <glib/gi18n.h>

#include <cmath>
#include <cstring>
#include <exception>

extern "C" {
G_DEFINE_QUARK(hy-dicom-error-quark, hy_dicom_error)
}

namespace {

/* Codecs are registered once per process; dcmtk's own log stays quiet (our
 * messages say what went wrong). */
void init_dcmtk() {
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
    g_once_init_leave(&done, 1);
  }
}

template <typename T>
void normalise(const T *v, unsigned long n, float *out, bool invert) {
  T lo = v[0], hi = v[0];
  for (unsigned long i = 1; i < n; i++) {
    lo = v[i] < lo ? v[i] : lo;
    hi = v[i] > hi ? v[i] : hi;
  }
  double scale = hi > lo ? 1.0 / ((double)hi - (double)lo) : 0.0;
  for (unsigned long i = 0; i < n; i++) {
    double x = ((double)v[i] - (double)lo) * scale;
    out[i] = (float)(invert ? 1.0 - x : x);
  }
}

template <typename T>
void min_max(const T *v, unsigned long n, double *lo, double *hi) {
  T a = v[0], b = v[0];
  for (unsigned long i = 1; i < n; i++) {
    a = v[i] < a ? v[i] : a;
    b = v[i] > b ? v[i] : b;
  }
  *lo = (double)a;
  *hi = (double)b;
}

/* Pixel Spacing, else Imager Pixel Spacing: square pixels only. */
void read_spacing(DcmDataset *ds, HyDicomInfo *info) {
  const struct {
    DcmTagKey tag;
    const char *name;
  } tags[] = {{DCM_PixelSpacing, "Pixel Spacing"},
              {DCM_ImagerPixelSpacing, "Imager Pixel Spacing"}};
  for (const auto &t : tags) {
    Float64 row = 0, col = 0;
    if (ds->findAndGetFloat64(t.tag, row, 0).bad() || ds->findAndGetFloat64(t.tag, col, 1).bad())
      continue;
    if (!(std::isfinite(row) && std::isfinite(col) && row > 0 && col > 0)) continue;
    if (std::fabs(row - col) > 0.01 * row) return;
    info->spacing_mm = 0.5 * (row + col);
    info->spacing_tag = t.name;
    return;
  }
}

/* Whether a JPEG frame's markers lead, each segment whole, to a frame
 * header of rows x columns. dcmtk 3.6.7's decoder spins for minutes on some
 * frames that are not (found by fuzz_dicom), so those never reach it. */
bool jpeg_frame_sane(const Uint8 *p, Uint32 n, Uint16 rows, Uint16 columns) {
  Uint32 o = 2; /* after SOI */
  while (o + 4 <= n) {
    if (p[o] != 0xff) return false;
    unsigned m = p[o + 1];
    if (m == 0xff) { /* fill */
      o++;
      continue;
    }
    if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) { /* no length */
      o += 2;
      continue;
    }
    Uint32 len = (Uint32)p[o + 2] << 8 | p[o + 3];
    if (len < 2 || o + 2 + len > n) return false;
    bool sof = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
    if (sof)
      return len >= 8 && ((Uint16)(p[o + 5] << 8 | p[o + 6])) == rows &&
             ((Uint16)(p[o + 7] << 8 | p[o + 8])) == columns;
    o += 2 + len;
  }
  return false;
}

/* Every frame of encapsulated classic JPEG data passes jpeg_frame_sane. */
bool jpeg_frames_sane(DcmDataset *ds, E_TransferSyntax xfer) {
  DcmElement *el = NULL;
  Uint16 rows = 0, columns = 0;
  ds->findAndGetUint16(DCM_Rows, rows);
  ds->findAndGetUint16(DCM_Columns, columns);
  if (ds->findAndGetElement(DCM_PixelData, el).bad() || !el) return false;
  DcmPixelSequence *seq = NULL;
  if (static_cast<DcmPixelData *>(el)->getEncapsulatedRepresentation(xfer, NULL, seq).bad() || !seq)
    return false;
  bool any = false;
  for (unsigned long i = 1; i < seq->card(); i++) {
    DcmPixelItem *item = NULL;
    Uint8 *p = NULL;
    if (seq->getItem(item, i).bad() || item->getUint8Array(p).bad()) return false;
    Uint32 n = item->getLength();
    if (!p || n < 2 || p[0] != 0xff || p[1] != 0xd8) continue; /* not a frame's start */
    if (!jpeg_frame_sane(p, n, rows, columns)) return false;
    any = true;
  }
  return any;
}

gboolean fail(GError **error, int code, const char *origin, const char *what) {
  g_set_error(error, HY_DICOM_ERROR, code, "%s: %s", origin, what);
  return FALSE;
}

}  // namespace

extern "C" gboolean hy_dicom_sniff(const void *bytes, size_t n) {
  return n >= 132 && std::memcmp((const char *)bytes + 128, "DICM", 4) == 0;
}

namespace {

gboolean decode(const void *bytes, size_t n, const char *origin, hy_image *out,
                HyDicomInfo *info, GError **error) {
  if (!hy_dicom_sniff(bytes, n))
    return fail(error, HY_DICOM_ERROR_INVALID, origin, _("not a DICOM file (no DICM marker)"));

  DcmInputBufferStream stream;
  stream.setBuffer(bytes, (offile_off_t)n);
  stream.setEos();
  DcmFileFormat file;
  file.transferInit();
  OFCondition cond = file.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  file.transferEnd();
  if (cond.bad()) {
    g_autofree char *what = g_strdup_printf(_("damaged or truncated DICOM data (%s)"), cond.text());
    return fail(error, HY_DICOM_ERROR_INVALID, origin, what);
  }
  DcmDataset *ds = file.getDataset();
  E_TransferSyntax xfer = ds->getOriginalXfer();
  DcmXfer x(xfer);
  if (!ds->tagExists(DCM_PixelData))
    return fail(error, HY_DICOM_ERROR_UNSUPPORTED, origin, _("the DICOM file holds no image"));
  if (x.isEncapsulated() && x.getJPEGProcess8Bit() > 0 && !jpeg_frames_sane(ds, xfer))
    return fail(error, HY_DICOM_ERROR_INVALID, origin,
                _("damaged JPEG data (its frames do not match the image size)"));
  /* decompress first: a codec we lack is then a clear "unsupported" */
  if (x.isEncapsulated() && ds->chooseRepresentation(EXS_LittleEndianExplicit, NULL).bad()) {
    g_autofree char *what = g_strdup_printf(
        _("its compression (transfer syntax %s, %s) cannot be decoded here"), x.getXferID(),
        x.getXferName());
    return fail(error, HY_DICOM_ERROR_UNSUPPORTED, origin, what);
  }
  Uint16 samples = 1;
  ds->findAndGetUint16(DCM_SamplesPerPixel, samples);
  const char *photometric = NULL;
  ds->findAndGetString(DCM_PhotometricInterpretation, photometric);
  OFString pi = photometric ? photometric : "";
  if (samples != 1 || (pi != "MONOCHROME1" && pi != "MONOCHROME2")) {
    g_autofree char *what = g_strdup_printf(
        _("a colour image (%s), not a greyscale X-ray"), pi.empty() ? "?" : pi.c_str());
    return fail(error, HY_DICOM_ERROR_UNSUPPORTED, origin, what);
  }
  Uint16 bits = 0;
  ds->findAndGetUint16(DCM_BitsStored, bits);

  DicomImage image(&file, ds->getCurrentXfer(), CIF_UsePartialAccessToPixelData, 0, 1);
  if (image.getStatus() != EIS_Normal) {
    g_autofree char *what = g_strdup_printf(_("the image cannot be decoded (%s)"),
                                            DicomImage::getString(image.getStatus()));
    return fail(error, HY_DICOM_ERROR_INVALID, origin, what);
  }
  unsigned long w = image.getWidth(), h = image.getHeight();
  if (w == 0 || h == 0 || w > HY_IMAGE_MAX_SIDE || h > HY_IMAGE_MAX_SIDE ||
      (long long)w * (long long)h > HY_IMAGE_MAX_PIXELS) {
    g_autofree char *what = g_strdup_printf(_("%lu x %lu pixels is empty or too large"), w, h);
    return fail(error, HY_DICOM_ERROR_UNSUPPORTED, origin, what);
  }
  const DiPixel *inter = image.getInterData();
  if (!inter || !inter->getData() || inter->getCount() < w * h)
    return fail(error, HY_DICOM_ERROR_INVALID, origin, _("the pixel data is missing or short"));
  hy_error err = {};
  if (hy_image_new(out, (int)w, (int)h, &err) != HY_OK)
    return fail(error, HY_DICOM_ERROR_UNSUPPORTED, origin, err.msg);
  out->bit_depth = bits > 8 ? 16 : 8;

  const void *data = inter->getData();
  unsigned long count = w * h;
  bool inv = pi == "MONOCHROME1";
  double lo = 0, hi = 0;
  switch (inter->getRepresentation()) {
#define CASE(rep, T)                                                \
  case rep:                                                         \
    normalise((const T *)data, count, out->pixels, inv);            \
    min_max((const T *)data, count, &lo, &hi);                      \
    break;
    CASE(EPR_Uint8, Uint8)
    CASE(EPR_Sint8, Sint8)
    CASE(EPR_Uint16, Uint16)
    CASE(EPR_Sint16, Sint16)
    CASE(EPR_Uint32, Uint32)
    CASE(EPR_Sint32, Sint32)
#undef CASE
  }

  read_spacing(ds, info);
  Float64 center = 0, width = 0;
  if (ds->findAndGetFloat64(DCM_WindowCenter, center, 0).good() &&
      ds->findAndGetFloat64(DCM_WindowWidth, width, 0).good() && std::isfinite(center) &&
      std::isfinite(width) && width > 0 && hi > lo) {
    double c = (center - lo) / (hi - lo);
    info->window_center = inv ? 1.0 - c : c;
    info->window_width = width / (hi - lo);
  }
  return TRUE;
}

}  // namespace

extern "C" gboolean hy_dicom_decode(const void *bytes, size_t n, const char *origin,
                                    hy_image *out, HyDicomInfo *info, GError **error) {
  g_return_val_if_fail(bytes && origin && out && info, FALSE);
  std::memset(out, 0, sizeof *out);
  std::memset(info, 0, sizeof *info);
  init_dcmtk();
  /* no C++ exception may cross into C: an allocation that dcmtk or the
   * standard library cannot satisfy becomes a refusal like any other */
  try {
    return decode(bytes, n, origin, out, info, error);
  } catch (const std::exception &e) {
    hy_image_free(out);
    std::memset(info, 0, sizeof *info);
    g_autofree char *what = g_strdup_printf(_("not enough memory to read it (%s)"), e.what());
    return fail(error, HY_DICOM_ERROR_UNSUPPORTED, origin, what);
  }
}
