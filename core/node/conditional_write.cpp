// Why "present" means a live value: a key whose siblings are all deletes reads as absent
// (a plain GET answers nil), so NX must treat it as absent and XX as absent too; the
// write's context still covers those tombstones, so it supersedes them instead of
// becoming their sibling. "previous" is the value a plain GET answers for the same reply
// (values.back(): core/node/client.h orders siblings so every node picks the same one).

#include "core/node/conditional_write.h"

#include "core/assert.h"

namespace vigil::core {

ConditionalWrite decide_conditional_write(const ClientReply& read, WriteCondition condition) {
  VIGIL_ASSERT(read.status.ok() || read.status.code() == Code::not_found,
               "a conditional write decided from a failed read");
  ConditionalWrite decision;
  decision.context = read.context;
  const bool present = read.status.ok() && !read.values.empty();
  if (present) decision.previous = read.values.back();
  switch (condition) {
    case WriteCondition::always: decision.write = true; break;
    case WriteCondition::if_absent: decision.write = !present; break;
    case WriteCondition::if_present: decision.write = present; break;
  }
  return decision;
}

}  // namespace vigil::core
