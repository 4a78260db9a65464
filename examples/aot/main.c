/* examples/aot: a C program that uses fashion_mlp compiled ahead of time.
 *
 *   nnc examples/fashion_mlp.nn compile -o build     (writes build/fashion_mlp.o, build/fashion_mlp.h)
 *   cc -std=c99 -Ibuild -I<nnc include> main.c build/fashion_mlp.o -L<nnc lib> -lnnc_rt -lm -lpthread -lstdc++
 *
 * (the Makefile beside this file does both). It predicts the classes of a few images, then
 * trains on one batch for a few steps, printing the loss, and reads a parameter back by name.
 * Plain C99; no nnc compiler or LLVM at run time, only the runtime library. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fashion_mlp.h"

#define PIXELS (28 * 28)
#define CLASSES 10
#define PREDICT_SAMPLES 4
#define TRAIN_BATCH 32
#define TRAIN_STEPS 8

/* A deterministic stand-in for a Fashion-MNIST image: values 0..255, as the data set stores
 * them. (tests/driver/AotCompileTest.cpp feeds the same images to `nnc predict`.) */
static float pixel(int sample, int index) {
  return (float)((sample * 37 + index * 11 + (index / 28) * 3) % 256);
}

static int check(int rc, const char* what) {
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", what, nnc_aot_error_string(rc));
    exit(1);
  }
  return rc;
}

int main(void) {
  static float images[TRAIN_BATCH * PIXELS];
  static int32_t labels[TRAIN_BATCH];
  static float probs[PREDICT_SAMPLES * CLASSES];
  fashion_mlp_model* model = NULL;
  /* Fails cleanly (NNC_AOT_ERR_CPU) on a CPU without the features of the one the object was
   * compiled for (FASHION_MLP_TARGET_CPU; `nnc compile --cpu` chooses it). */
  int rc = fashion_mlp_create(&model);
  if (rc != 0) {
    fprintf(stderr, "cannot create the model (built for %s): %s\n", FASHION_MLP_TARGET_CPU, nnc_aot_error_string(rc));
    return 1;
  }
  for (int s = 0; s < TRAIN_BATCH; ++s) {
    for (int i = 0; i < PIXELS; ++i) images[s * PIXELS + i] = pixel(s, i);
    labels[s] = s % CLASSES;
  }
  /* The model was trained on pixels scaled by 1/255 (normalize = scale(1 / 255)). */
  fashion_mlp_normalize_input(0, images, (int64_t)TRAIN_BATCH * PIXELS);

  /* Inference: inputs and outputs in the order the header lists them. */
  {
    const void* inputs[FASHION_MLP_NUM_INPUTS] = {images};
    void* outputs[FASHION_MLP_NUM_OUTPUTS] = {probs};
    check(fashion_mlp_forward(model, inputs, outputs, PREDICT_SAMPLES), "forward");
    for (int s = 0; s < PREDICT_SAMPLES; ++s) {
      int best = 0;
      printf("probs %d:", s);
      for (int c = 0; c < CLASSES; ++c) {
        printf(" %.9g", probs[s * CLASSES + c]);
        if (probs[s * CLASSES + c] > probs[s * CLASSES + best]) best = c;
      }
      printf("  class %d\n", best);
    }
  }

  /* Training: a few optimizer steps on one batch; the loss goes down. */
  {
    const void* inputs[FASHION_MLP_TRAIN_NUM_INPUTS] = {images, labels};
    for (int step = 0; step < TRAIN_STEPS; ++step) {
      float loss = 0;
      check(fashion_mlp_train_step(model, inputs, TRAIN_BATCH, FASHION_MLP_DEFAULT_LR, &loss), "train step");
      printf("step %d loss %.6f\n", step + 1, loss);
    }
  }

  /* Parameters by name. */
  {
    float bias[10];
    check(fashion_mlp_get_tensor(model, "logits.bias", bias, 10), "get logits.bias");
    printf("logits.bias[0] %.6f\n", bias[0]);
    printf("state tensors: %d, first %s\n", fashion_mlp_num_tensors(), fashion_mlp_tensor(0)->name);
  }
  fashion_mlp_free(model);
  return 0;
}
