// The runtime side of ahead-of-time models (runtime/include/nnc/aot.h): state allocation and
// initialisation, the workspace, and calls into the entries an AOT object defines. Plain C
// ABI, no exceptions escape: the library links into C programs.
#include "runtime/include/nnc/aot.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "runtime/aot/CpuFeatures.h"

struct nnc_aot_model {
  const nnc_aot_model_desc* desc = nullptr;
  unsigned char* state = nullptr;
  void* workspace = nullptr;
  int64_t workspaceBytes = 0;
  int64_t steps = 0;
};

namespace {

// The features the calling thread's last create found missing, for nnc_aot_error_string.
thread_local std::string missingFeatures;
thread_local std::string cpuMessage;

void* alignedAlloc(int64_t bytes) {
  size_t rounded = size_t((bytes + 63) / 64 * 64);
  if (rounded == 0) rounded = 64;
  return std::aligned_alloc(64, rounded);
}

// The workspace grown to at least `bytes` (contents need not survive).
bool ensureWorkspace(nnc_aot_model* m, int64_t bytes) {
  if (m->workspace && bytes <= m->workspaceBytes) return true;
  void* p = alignedAlloc(bytes);
  if (!p) return false;
  std::free(m->workspace);
  m->workspace = p;
  m->workspaceBytes = (bytes + 63) / 64 * 64;
  return true;
}

int run(nnc_aot_model* m, const nnc_aot_entry& e, const void* const* inputs, void* const* outputs, int64_t batch,
        const float* hypers) {
  if (batch < 1) return NNC_AOT_ERR_ARGUMENT;
  if (e.num_inputs > 0 && !inputs) return NNC_AOT_ERR_ARGUMENT;
  for (int32_t i = 0; i < e.num_inputs; ++i)
    if (e.inputs[i].used && !inputs[i]) return NNC_AOT_ERR_ARGUMENT;
  if (!ensureWorkspace(m, e.workspace(batch))) return NNC_AOT_ERR_MEMORY;
  // The entry returns 0, or NNC_AOT_ERR_INDEX for an embedding id out of range.
  return e.run(m->state, inputs, outputs, batch, hypers, m->workspace);
}

}  // namespace

extern "C" {

int nnc_aot_create_model(const nnc_aot_model_desc* desc, nnc_aot_model** model) {
  if (!model) return NNC_AOT_ERR_ARGUMENT;
  *model = nullptr;
  if (!desc) return NNC_AOT_ERR_ARGUMENT;
  if (desc->abi_version != NNC_AOT_ABI_VERSION) return NNC_AOT_ERR_ABI;
  missingFeatures = desc->required_features ? nnc::aot::missingCpuFeatures(desc->required_features) : std::string();
  if (!missingFeatures.empty()) return NNC_AOT_ERR_CPU;
  auto* m = new (std::nothrow) nnc_aot_model();
  if (!m) return NNC_AOT_ERR_MEMORY;
  m->desc = desc;
  m->steps = desc->initial_step;
  m->state = static_cast<unsigned char*>(alignedAlloc(desc->state_bytes));
  if (!m->state) {
    delete m;
    return NNC_AOT_ERR_MEMORY;
  }
  std::memset(m->state, 0, size_t(desc->state_bytes));
  for (int32_t i = 0; i < desc->num_state; ++i) {
    const nnc_aot_tensor& t = desc->state[i];
    if (t.initial >= 0) std::memcpy(m->state + t.offset, desc->initial_values + t.initial, size_t(t.bytes));
  }
  *model = m;
  return NNC_AOT_OK;
}

nnc_aot_model* nnc_aot_create(const nnc_aot_model_desc* desc) {
  nnc_aot_model* m = nullptr;
  return nnc_aot_create_model(desc, &m) == NNC_AOT_OK ? m : nullptr;
}

void nnc_aot_free(nnc_aot_model* model) {
  if (!model) return;
  std::free(model->state);
  std::free(model->workspace);
  delete model;
}

int nnc_aot_forward(nnc_aot_model* model, const void* const* inputs, void* const* outputs, int64_t batch) {
  if (!model) return NNC_AOT_ERR_ARGUMENT;
  const nnc_aot_entry& e = model->desc->forward;
  // The entry writes only non-null outputs; a caller without any passes NULL.
  void* none[1] = {nullptr};
  void* const* outs = outputs;
  void** scratch = nullptr;
  if (!outs) {
    if (e.num_outputs > 1) {
      scratch = static_cast<void**>(std::calloc(size_t(e.num_outputs), sizeof(void*)));
      if (!scratch) return NNC_AOT_ERR_MEMORY;
      outs = scratch;
    } else {
      outs = none;
    }
  }
  float hypers[2] = {0.0f, 0.0f};  // inference takes none; never an empty array
  int rc = run(model, e, inputs, outs, batch, hypers);
  std::free(scratch);
  return rc;
}

int nnc_aot_train_step(nnc_aot_model* model, const void* const* inputs, int64_t batch, float lr, float* loss) {
  if (!model) return NNC_AOT_ERR_ARGUMENT;
  const nnc_aot_entry& e = model->desc->train;
  if (!e.run) return NNC_AOT_ERR_NO_TRAIN;
  float lossValue = 0.0f;
  void** outs = static_cast<void**>(std::calloc(size_t(e.num_outputs > 0 ? e.num_outputs : 1), sizeof(void*)));
  float* hypers = static_cast<float*>(std::calloc(size_t(e.num_hypers + 1), sizeof(float)));
  if (!outs || !hypers) {
    std::free(outs);
    std::free(hypers);
    return NNC_AOT_ERR_MEMORY;
  }
  if (e.loss_output >= 0) outs[e.loss_output] = &lossValue;
  for (int32_t i = 0; i < e.num_hypers; ++i)
    hypers[i] = std::strcmp(e.hypers[i], "lr") == 0 ? lr : float(model->steps);
  int rc = run(model, e, inputs, outs, batch, hypers);
  std::free(outs);
  std::free(hypers);
  if (rc != NNC_AOT_OK) return rc;
  ++model->steps;
  if (loss) *loss = lossValue;
  return NNC_AOT_OK;
}

const nnc_aot_tensor* nnc_aot_find_tensor(const nnc_aot_model_desc* desc, const char* name) {
  if (!desc || !name) return nullptr;
  for (int32_t i = 0; i < desc->num_state; ++i)
    if (std::strcmp(desc->state[i].name, name) == 0) return &desc->state[i];
  return nullptr;
}

int64_t nnc_aot_tensor_elements(const nnc_aot_tensor* tensor, int64_t batch) {
  if (!tensor) return 0;
  int64_t n = 1;
  for (int32_t i = 0; i < tensor->rank; ++i) n *= tensor->dims[i] < 0 ? batch : tensor->dims[i];
  return n;
}

int nnc_aot_get_tensor(const nnc_aot_model* model, const char* name, float* out, int64_t count) {
  if (!model || !out) return NNC_AOT_ERR_ARGUMENT;
  const nnc_aot_tensor* t = nnc_aot_find_tensor(model->desc, name);
  if (!t) return NNC_AOT_ERR_UNKNOWN_NAME;
  if (count * 4 != t->bytes) return NNC_AOT_ERR_SIZE;
  std::memcpy(out, model->state + t->offset, size_t(t->bytes));
  return NNC_AOT_OK;
}

int nnc_aot_set_tensor(nnc_aot_model* model, const char* name, const float* values, int64_t count) {
  if (!model || !values) return NNC_AOT_ERR_ARGUMENT;
  const nnc_aot_tensor* t = nnc_aot_find_tensor(model->desc, name);
  if (!t) return NNC_AOT_ERR_UNKNOWN_NAME;
  if (count * 4 != t->bytes) return NNC_AOT_ERR_SIZE;
  std::memcpy(model->state + t->offset, values, size_t(t->bytes));
  return NNC_AOT_OK;
}

int64_t nnc_aot_steps(const nnc_aot_model* model) { return model ? model->steps : 0; }

void nnc_aot_normalize(const nnc_aot_tensor* input, float* values, int64_t count) {
  if (!input || !values || input->dtype != NNC_AOT_F32) return;
  const float shift = input->shift, mult = input->multiplier;
  for (int64_t i = 0; i < count; ++i) values[i] = (values[i] - shift) * mult;
}

const char* nnc_aot_error_string(int code) {
  switch (code) {
    case NNC_AOT_OK: return "success";
    case NNC_AOT_ERR_ARGUMENT: return "invalid argument (a null model or pointer, or a batch below 1)";
    case NNC_AOT_ERR_NO_TRAIN: return "the model was compiled without a training step (it has no train block with a loss)";
    case NNC_AOT_ERR_UNKNOWN_NAME: return "no state tensor of that name";
    case NNC_AOT_ERR_SIZE: return "the element count does not match the tensor";
    case NNC_AOT_ERR_MEMORY: return "out of memory";
    case NNC_AOT_ERR_ABI: return "the header and the runtime library disagree on the ABI version";
    case NNC_AOT_ERR_INDEX: return "an embedding id in the inputs is outside [0, vocab) of its embedding";
    case NNC_AOT_ERR_CPU:
      cpuMessage = "this CPU lacks instruction-set features the object was compiled for";
      if (!missingFeatures.empty()) cpuMessage += " (" + missingFeatures + ")";
      cpuMessage += "; compile the model again with `nnc FILE compile --cpu NAME` for an older CPU (e.g. x86-64-v2)";
      return cpuMessage.c_str();
    default: return "unknown error";
  }
}

}  // extern "C"
