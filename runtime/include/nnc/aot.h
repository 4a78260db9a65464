/* nnc ahead-of-time models: what a header written by `nnc FILE compile -o DIR` builds on.
 *
 * `nnc FILE compile` writes NAME.o (the model's entry points compiled for the host CPU) and
 * NAME.h (its description as a constant nnc_aot_model_desc plus NAME_-prefixed functions).
 * The functions here, in the runtime library (libnnc_rt), do the work those NAME_ functions
 * forward to: allocate and initialise the state, manage the workspace, call the entries.
 * Link: cc prog.c NAME.o -lnnc_rt -lm -lpthread -lstdc++
 *
 * Return codes: 0 on success, a negative NNC_AOT_ERR_* otherwise (nnc_aot_error_string
 * words them). Calls on one model must not overlap; separate models are independent. */
#ifndef NNC_AOT_H
#define NNC_AOT_H

#include <stdint.h>

#include "runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNC_AOT_ABI_VERSION 2

enum {
  NNC_AOT_OK = 0,
  NNC_AOT_ERR_ARGUMENT = -1,      /* a null model/pointer, or a batch below 1 */
  NNC_AOT_ERR_NO_TRAIN = -2,      /* the model was compiled without a training step */
  NNC_AOT_ERR_UNKNOWN_NAME = -3,  /* no state tensor of that name */
  NNC_AOT_ERR_SIZE = -4,          /* the element count given does not match the tensor */
  NNC_AOT_ERR_MEMORY = -5,        /* the workspace could not be allocated */
  NNC_AOT_ERR_ABI = -6,           /* the header and the runtime library disagree on the ABI version */
  NNC_AOT_ERR_CPU = -7,           /* this CPU lacks instruction-set features the object was compiled for */
  NNC_AOT_ERR_INDEX = -8          /* an embedding id in the inputs is outside [0, vocab); nothing was run */
};

enum { NNC_AOT_F32 = 0, NNC_AOT_I32 = 1 };

/* An entry point: int32_t f(state, inputs, outputs, batch, hypers, workspace); see
 * compiler/codegen/README.md ("Entry ABI"). */
typedef int32_t (*nnc_aot_entry_fn)(void* state, const void* const* inputs, void* const* outputs, int64_t batch,
                                    const float* hypers, void* workspace);
/* Bytes of workspace the entry needs at `batch`. */
typedef int64_t (*nnc_aot_workspace_fn)(int64_t batch);

/* A tensor: a state tensor (parameter or non-trainable state), an input or an output. */
typedef struct nnc_aot_tensor {
  const char* name;
  int32_t dtype;          /* NNC_AOT_F32 or NNC_AOT_I32 */
  int32_t rank;
  const int64_t* dims;    /* rank dimensions; -1 is the batch dimension (inputs, outputs) */
  int64_t offset;         /* state: byte offset in the state buffer; otherwise -1 */
  int64_t bytes;          /* state: bytes; inputs and outputs: bytes per sample */
  int64_t initial;        /* state: byte offset of its initial values in the model's blob, -1 for zeros */
  int32_t trainable;      /* state: 1 for a parameter, 0 for other state */
  int32_t used;           /* inputs: 0 when the entry never reads it (its pointer may be NULL) */
  float shift;            /* f32 inputs: normalisation x' = (x - shift) * multiplier (0 and 1: none) */
  float multiplier;
} nnc_aot_tensor;

typedef struct nnc_aot_entry {
  nnc_aot_entry_fn run; /* NULL: the model has no such entry */
  nnc_aot_workspace_fn workspace;
  int32_t num_inputs;
  int32_t num_outputs;
  const nnc_aot_tensor* inputs;
  const nnc_aot_tensor* outputs;
  int32_t num_hypers;
  int32_t loss_output; /* the index of the "loss" output, or -1 */
  const char* const* hypers; /* run-time scalars by name: "lr", "step" */
} nnc_aot_entry;

typedef struct nnc_aot_model_desc {
  int32_t abi_version; /* NNC_AOT_ABI_VERSION */
  int32_t num_state;
  const char* name;
  int64_t state_bytes;
  const nnc_aot_tensor* state;
  const unsigned char* initial_values; /* the blob nnc_aot_tensor::initial points into */
  int64_t initial_step;                /* optimizer steps already taken (from --weights), else 0 */
  nnc_aot_entry forward;
  nnc_aot_entry train;
  const char* target_cpu;        /* the LLVM CPU the object was compiled for ("x86-64-v3", "znver3") */
  const char* required_features; /* comma-separated x86 features it uses ("avx,avx2,fma"), checked by create */
} nnc_aot_model_desc;

/* A model at work: its state buffer, a workspace and the optimizer step count. */
typedef struct nnc_aot_model nnc_aot_model;

/* A new model with every state tensor at its initial value, in *model. Returns
 * NNC_AOT_ERR_CPU when the running CPU lacks a feature the object needs (checked here, before
 * any of the object's code runs: no illegal instruction), NNC_AOT_ERR_ABI when the
 * description's ABI version is not this library's, NNC_AOT_ERR_MEMORY when out of memory. */
int nnc_aot_create_model(const nnc_aot_model_desc* desc, nnc_aot_model** model);
/* The same, NULL on any of those errors. */
nnc_aot_model* nnc_aot_create(const nnc_aot_model_desc* desc);
void nnc_aot_free(nnc_aot_model* model);

/* The forward pass on `batch` samples: inputs[i] holds batch samples of desc->forward.inputs[i],
 * outputs[i] (or NULL) receives desc->forward.outputs[i]. An output buffer must not overlap
 * an input or another output: the kernels write outputs while they still read the inputs. */
int nnc_aot_forward(nnc_aot_model* model, const void* const* inputs, void* const* outputs, int64_t batch);

/* One optimizer step on `batch` samples (inputs as desc->train.inputs) at learning rate lr;
 * `loss` (or NULL) receives the batch's loss. Advances the step count. */
int nnc_aot_train_step(nnc_aot_model* model, const void* const* inputs, int64_t batch, float lr, float* loss);

/* Copies a state tensor (by name, e.g. "h1.weight") out of or into the model; `count` must be
 * its element count. */
int nnc_aot_get_tensor(const nnc_aot_model* model, const char* name, float* out, int64_t count);
int nnc_aot_set_tensor(nnc_aot_model* model, const char* name, const float* values, int64_t count);

/* The state tensor of that name (NULL if none) and its element count. */
const nnc_aot_tensor* nnc_aot_find_tensor(const nnc_aot_model_desc* desc, const char* name);
int64_t nnc_aot_tensor_elements(const nnc_aot_tensor* tensor, int64_t batch);

/* Optimizer steps taken so far (the `step` the next training step uses). */
int64_t nnc_aot_steps(const nnc_aot_model* model);

/* Applies an input's normalisation in place: x = (x - shift) * multiplier. */
void nnc_aot_normalize(const nnc_aot_tensor* input, float* values, int64_t count);

/* A sentence for a return code (for NNC_AOT_ERR_CPU, naming the features this CPU lacked in
 * the calling thread's last create). */
const char* nnc_aot_error_string(int code);

#ifdef __cplusplus
}
#endif

#endif /* NNC_AOT_H */
