/* A landmark data set on disk, in the layout of ISBI 2015 and of the hand
 * set in ../shared/data:
 *
 *   DIR/images/ID.png|.jpg|.jpeg     one image per sample (any of these)
 *   DIR/NAME_px.csv                  one CSV per annotator (landmarks.h layout:
 *                                    image[,split],l1_x,l1_y,...), pixels
 *   DIR/SPLIT.txt                    optional: one sample id per line
 *
 * What the files do not say (pixel spacing, landmark names, which CSV is
 * which annotator) comes from a descriptor, hy_dataset_spec, that the caller
 * fills (the app reads data/datasets/<name>.json into it); an empty spec
 * means "detect": every *_px.csv is an annotator named by its prefix.
 *
 * Pixel spacing is either fixed (ISBI 2015: 0.1 mm) or per image from the
 * distance between two landmarks of known length (the hand set: wrist width
 * 50 mm between landmarks 2 and 6), measured on the mean of the annotators.
 *
 * Every refusal is one line naming the file and, where one is at fault, the
 * sample id. */
#pragma once

#include "error.h"
#include "landmarks.h"

#define HY_DATASET_MAX_ANNOTATORS 4
#define HY_DATASET_MAX_LANDMARKS 256 /* as the network */
#define HY_DATASET_NAME_LEN 32       /* landmark and annotator names, NUL included */

typedef struct hy_dataset_annotator {
  char name[HY_DATASET_NAME_LEN]; /* e.g. "senior" */
  char file[256];                 /* CSV, relative to the data set folder */
} hy_dataset_annotator;

typedef struct hy_dataset_spec {
  char name[64];         /* e.g. "isbi2015"; "" = the folder's name */
  char landmark_set[64]; /* [A-Za-z0-9_.-]+; "" = name */
  char images[256];      /* image folder, relative; "" = "images" */
  double spacing_mm;     /* mm per pixel; 0 = unknown (then a rule is needed) */
  /* Per-image spacing: spacing_distance_mm / |p_a - p_b| for the 1-based
   * landmarks a, b of the mean reference; {0, 0} = the fixed spacing_mm. */
  int spacing_landmarks[2];
  double spacing_distance_mm;
  int n_annotators;      /* 0 = detect every *_px.csv, sorted by name */
  hy_dataset_annotator annotators[HY_DATASET_MAX_ANNOTATORS];
  int n_landmark_names;  /* 0 = "1", "2", ... */
  char landmark_names[HY_DATASET_MAX_LANDMARKS][HY_DATASET_NAME_LEN];
} hy_dataset_spec;

/* The samples of one split. */
typedef struct hy_dataset {
  char *dir;              /* owned */
  hy_dataset_spec spec;   /* as opened: name, set, images, annotators and
                             landmark names all filled in */
  char split[64];         /* the split opened, e.g. "train" or "all" */
  int K;                  /* landmarks per sample */
  int n;                  /* samples, in the split's order */
  char **ids;             /* owned [n], e.g. "001" */
  char **paths;           /* owned [n] image files */
  int n_annotators;       /* = spec.n_annotators */
  hy_point *points[HY_DATASET_MAX_ANNOTATORS]; /* owned [n][K], original px */
  hy_point *mean;         /* owned [n][K]: the mean of the annotators */
  double *spacing;        /* owned [n] mm per pixel */
} hy_dataset;

#define HY_DATASET_MEAN (-1) /* reference index of the annotators' mean */

/* Opens the samples of `split` under dir. spec may be NULL (detect all).
 * Split resolution: DIR/SPLIT.txt if it exists; else the CSV rows whose
 * split column equals SPLIT; "all" without a file = every row of the first
 * annotator's CSV. split NULL = "train" if the data set has one, else "all".
 * Refuses: unreadable or malformed CSVs, annotator files with different
 * landmark counts or a count other than the spec's names, a split that does
 * not exist or is empty, an id listed twice, an id missing from an
 * annotator's CSV, an id without an image file, a spacing that is unknown
 * or cannot be measured. On failure *ds is left empty. */
hy_status hy_dataset_open(hy_dataset *ds, const char *dir, const hy_dataset_spec *spec,
                          const char *split, hy_error *err);

/* Frees the members and zeroes *ds; safe on a zeroed or freed data set. */
void hy_dataset_free(hy_dataset *ds);

/* The reference index of `name`: "mean" gives HY_DATASET_MEAN, an
 * annotator's name its index. Refuses other names, listing the valid ones. */
hy_status hy_dataset_reference(const hy_dataset *ds, const char *name, int *index,
                               hy_error *err);

/* The K points of sample i for a reference index. */
const hy_point *hy_dataset_points(const hy_dataset *ds, int reference, int i);
