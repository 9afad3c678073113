/* Writes a small DICOM X-ray for the tests (test-dicom.c):
 *   make-dicom OUT [--mono1] [--bits 8|16] [--pixel-spacing MM]
 *              [--imager-spacing MM] [--window C W] [--rescale SLOPE INTERCEPT]
 *              [--jpeg-lossless | --jpeg2000-junk] [--colour]
 * Pixels: 64 x 48, value (x + 64 y) mod 2^bits, i.e. a known ramp.
 * --jpeg2000-junk stores a JPEG 2000 transfer syntax with undecodable
 * fragments: what a file compressed with a codec we lack looks like. */
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

enum { W = 64, H = 48 };

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  bool mono1 = false, lossless = false, j2k = false, colour = false;
  int bits = 16;
  std::string pixel_spacing, imager_spacing, center, width, slope, intercept;
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--mono1") mono1 = true;
    else if (a == "--bits" && i + 1 < argc) bits = atoi(argv[++i]);
    else if (a == "--pixel-spacing" && i + 1 < argc) pixel_spacing = argv[++i];
    else if (a == "--imager-spacing" && i + 1 < argc) imager_spacing = argv[++i];
    else if (a == "--window" && i + 2 < argc) center = argv[++i], width = argv[++i];
    else if (a == "--rescale" && i + 2 < argc) slope = argv[++i], intercept = argv[++i];
    else if (a == "--jpeg-lossless") lossless = true;
    else if (a == "--jpeg2000-junk") j2k = true;
    else if (a == "--colour") colour = true;
    else return 2;
  }
  DcmFileFormat file;
  DcmDataset *ds = file.getDataset();
  char uid[100];
  ds->putAndInsertString(DCM_SOPClassUID, UID_DigitalXRayImageStorageForPresentation);
  ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  ds->putAndInsertString(DCM_Modality, "DX");
  ds->putAndInsertString(DCM_PatientName, "Test^Phantom");
  ds->putAndInsertUint16(DCM_SamplesPerPixel, colour ? 3 : 1);
  ds->putAndInsertString(DCM_PhotometricInterpretation, colour ? "RGB" : mono1 ? "MONOCHROME1" : "MONOCHROME2");
  ds->putAndInsertUint16(DCM_Rows, H);
  ds->putAndInsertUint16(DCM_Columns, W);
  int alloc = bits > 8 ? 16 : 8;
  ds->putAndInsertUint16(DCM_BitsAllocated, alloc);
  ds->putAndInsertUint16(DCM_BitsStored, bits);
  ds->putAndInsertUint16(DCM_HighBit, bits - 1);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  if (colour) ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
  if (!pixel_spacing.empty()) ds->putAndInsertString(DCM_PixelSpacing, (pixel_spacing + "\\" + pixel_spacing).c_str());
  if (!imager_spacing.empty()) ds->putAndInsertString(DCM_ImagerPixelSpacing, (imager_spacing + "\\" + imager_spacing).c_str());
  if (!center.empty()) {
    ds->putAndInsertString(DCM_WindowCenter, center.c_str());
    ds->putAndInsertString(DCM_WindowWidth, width.c_str());
  }
  if (!slope.empty()) {
    ds->putAndInsertString(DCM_RescaleSlope, slope.c_str());
    ds->putAndInsertString(DCM_RescaleIntercept, intercept.c_str());
  }
  unsigned long max = (1ul << bits) - 1;
  int spp = colour ? 3 : 1;
  if (j2k) {
    DcmPixelSequence *seq = new DcmPixelSequence(DCM_PixelSequenceTag);
    seq->insert(new DcmPixelItem(DCM_PixelItemTag));  // empty offset table
    DcmPixelItem *frag = new DcmPixelItem(DCM_PixelItemTag);
    Uint8 junk[64];
    for (int i = 0; i < 64; i++) junk[i] = (Uint8)(i * 37);
    frag->putUint8Array(junk, 64);
    seq->insert(frag);
    DcmPixelData *pd = new DcmPixelData(DCM_PixelData);
    pd->putOriginalRepresentation(EXS_JPEG2000LosslessOnly, NULL, seq);
    ds->insert(pd);
    return file.saveFile(argv[1], EXS_JPEG2000LosslessOnly).good() ? 0 : 1;
  }
  if (alloc == 16) {
    std::vector<Uint16> px(W * H * spp);
    for (int i = 0; i < W * H * spp; i++) px[i] = (Uint16)((i / spp) % (max + 1));
    ds->putAndInsertUint16Array(DCM_PixelData, px.data(), W * H * spp);
  } else {
    std::vector<Uint8> px(W * H * spp);
    for (int i = 0; i < W * H * spp; i++) px[i] = (Uint8)((i / spp) % (max + 1));
    ds->putAndInsertUint8Array(DCM_PixelData, px.data(), W * H * spp);
  }
  E_TransferSyntax xfer = EXS_LittleEndianExplicit;
  if (lossless) {
    DJEncoderRegistration::registerCodecs();
    DJ_RPLossless params;
    if (ds->chooseRepresentation(EXS_JPEGProcess14SV1, &params).bad()) return 1;
    xfer = EXS_JPEGProcess14SV1;
  }
  return file.saveFile(argv[1], xfer).good() ? 0 : 1;
}
