// embedding(ids, vocab, dim, init = uniform(-0.05, 0.05)) (issue 13): `.weight` [vocab, dim],
// and the result ids' shape + [dim]. The default initializer is Keras' (uniform in
// [-0.05, 0.05]); `init = normal(0, 1)` gives PyTorch's nn.Embedding. An id outside
// [0, vocab) is a run-time error (compiler/ir/EmbeddingIds.h).
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

std::optional<NodeId> buildEmbeddingLayer(Sema& s, const BoundCall& b) {
  const BoundArg& init = b.arg("init");
  InitSpec spec = init.present && init.call ? initSpec(*init.call) : InitSpec{"uniform", {-0.05, 0.05}};
  Emitter em(s, b.loc);
  NodeId table = em.param(b, "weight", Shape{b.integer("vocab"), b.integer("dim")}, spec);
  return em.result(em(OpKind::Embedding, {table, b.tensor("ids")}));
}

}  // namespace

void addEmbeddingLayer(Registry& r) {
  r.add(layer("embedding",
              {spec::tensor("ids", spec::req(DTypeReq::I32, 0, -1, "ids", "of any shape")),
               spec::integer("vocab", spec::required(), spec::between(1, kMaxUnits)),
               spec::integer("dim", spec::required(), spec::between(1, kMaxUnits)),
               spec::callable("init", Family::Initializer, spec::unset())},
              buildEmbeddingLayer, "Embedding"));
}

}  // namespace nnc::sema
