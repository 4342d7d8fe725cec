// Tests of the wire codec (core/wire/codec.h): round trips of every message and of the stored
// encodings over generated contents, the exact frame layout, every bound, and robustness:
// random bytes, every truncation, every single-byte mutation, and (the important case)
// garbage payloads whose checksum has been recomputed, so the parser itself must hold.
// Anything that decodes must re-encode to the same bytes (the encoding is canonical).

#include "core/wire/codec.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "core/wire/bytes.h"
#include "core/hash.h"
#include "core/random.h"

// ---- allocation watch: proves forged lengths are refused before anything is allocated ----

namespace {

std::atomic<std::size_t> largest_allocation_bytes{0};

void* allocate(std::size_t size) noexcept {
  std::size_t seen = largest_allocation_bytes.load(std::memory_order_relaxed);
  while (size > seen &&
         !largest_allocation_bytes.compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
  }
  return std::malloc(size == 0 ? 1 : size);
}

void* allocate_or_throw(std::size_t size) {
  void* pointer = allocate(size);
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

}  // namespace

// Every non-aligned form is replaced so that new/delete pairs stay malloc/free pairs (ASan
// checks that allocation and deallocation functions match).
void* operator new(std::size_t size) {
  return allocate_or_throw(size);
}
void* operator new[](std::size_t size) {
  return allocate_or_throw(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
void operator delete(void* pointer) noexcept {
  std::free(pointer);
}
void operator delete[](void* pointer) noexcept {
  std::free(pointer);
}
void operator delete(void* pointer, std::size_t) noexcept {
  std::free(pointer);
}
void operator delete[](void* pointer, std::size_t) noexcept {
  std::free(pointer);
}
void operator delete(void* pointer, const std::nothrow_t&) noexcept {
  std::free(pointer);
}
void operator delete[](void* pointer, const std::nothrow_t&) noexcept {
  std::free(pointer);
}

namespace vigil::core {
namespace {

// ---- helpers ----

// How many mutated payloads each generated frame is put through in the fuzz properties.
constexpr int garbage_payloads_per_frame = 1000;
constexpr int garbage_records_per_case = 300;

std::string encoded(const Envelope& envelope) {
  Result<std::string> frame = encode_frame(envelope);
  VIGIL_ASSERT(frame.ok(), "test envelope must encode: " + frame.status().to_string());
  return std::move(frame).value();
}

// An independent statement of the frame layout: header then a checksum over the payload
// seeded with the first 8 header bytes. Lets tests forge frames with valid checksums.
std::string reframe(std::uint8_t type, std::string_view payload) {
  ByteWriter header;
  header.write_u16(0x5647);
  header.write_u8(wire_version);
  header.write_u8(type);
  header.write_u32(static_cast<std::uint32_t>(payload.size()));
  std::uint64_t seed = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    seed |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(header.bytes()[i])) << (8 * i);
  }
  header.write_u64(xxhash64(payload, seed));
  return header.take() + std::string(payload);
}

std::string payload_of(const std::string& frame) {
  return frame.substr(frame_header_bytes);
}
std::uint8_t type_of(const std::string& frame) {
  return static_cast<std::uint8_t>(frame[3]);
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Decoding must end in a value or a clear error; a value must re-encode to the same bytes.
void check_decodes_canonically_or_fails(const std::string& bytes) {
  Result<Envelope> decoded = decode_frame(bytes);
  if (decoded.ok()) {
    Result<std::string> again = encode_frame(*decoded);
    RC_ASSERT(again.ok());
    RC_ASSERT(*again == bytes);
    return;
  }
  const Status status = decoded.status();
  RC_ASSERT(status.code() == Code::invalid_argument || status.code() == Code::corruption);
  RC_ASSERT(!status.message().empty());
}

// ---- generators ----
// rc::gen::inRange scales its range with the generation size (small early cases), which
// suits sizes and counts; categorical choices use element/oneOf, which are uniform, and
// `uniform_in` where a full-range number is wanted at every size.

template <typename T>
T uniform_in(T low, T high_exclusive) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(low, high_exclusive));
}

const std::vector<NodeId> node_pool = {"n1", "n2", "n3", "node-4.dc_1"};

rc::Gen<NodeId> gen_node_id() {
  static const std::string allowed =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
  return rc::gen::oneOf(rc::gen::elementOf(node_pool), rc::gen::exec([] {
                          const auto size = *rc::gen::inRange<std::size_t>(1, 65);
                          return *rc::gen::container<std::string>(size,
                                                                  rc::gen::elementOf(allowed));
                        }));
}

rc::Gen<std::string> gen_bytes() {
  return rc::gen::container<std::string>(rc::gen::arbitrary<char>());
}

// Tombstones, empty values and byte strings in even measure: the first two must stay apart.
rc::Gen<std::optional<Value>> gen_optional_value() {
  return rc::gen::exec([]() -> std::optional<Value> {
    switch (*rc::gen::element(0, 1, 2)) {
      case 0: return std::nullopt;
      case 1: return Value();
      default: return *gen_bytes();
    }
  });
}

rc::Gen<std::uint64_t> gen_counter() {
  return rc::gen::exec([] {
    return *rc::gen::element(true, false) ? uniform_in<std::uint64_t>(1, 10)
                                          : uniform_in<std::uint64_t>(1, UINT64_MAX);
  });
}

rc::Gen<VectorClock> gen_clock() {
  return rc::gen::exec([] {
    VectorClock clock;
    const auto entries = *rc::gen::inRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < entries; ++i) {
      clock.set(*gen_node_id(),
                ClockEntry{*gen_counter(), uniform_in<WallMicros>(INT64_MIN, INT64_MAX)});
    }
    return clock;
  });
}

// Sibling sets only as real histories make them: replicas that coordinate writes with
// contexts clients could have read (none, current, or stale), and merge each other.
rc::Gen<SiblingSet> gen_sibling_set() {
  return rc::gen::exec([] {
    const ConflictMode mode =
        *rc::gen::element(ConflictMode::siblings, ConflictMode::siblings, ConflictMode::timestamp);
    const SiblingLimits limits;
    VersionCounters counters;
    std::vector<SiblingSet> replicas(3);
    std::vector<VectorClock> contexts_read = {VectorClock()};
    WallMicros now = uniform_in<WallMicros>(0, 2'000'000'000'000'000);
    const int steps = uniform_in(0, 16);
    for (int step = 0; step < steps; ++step) {
      const auto replica = static_cast<std::size_t>(*rc::gen::element(0, 1, 2));
      if (*rc::gen::element(true, false, false, false)) {
        const auto other = static_cast<std::size_t>(*rc::gen::element(0, 1, 2));
        replicas[replica].merge(replicas[other], mode, limits, counters);
        continue;
      }
      now += uniform_in<WallMicros>(-1000, 1'000'000);  // wall clocks step back too
      const VectorClock context = *rc::gen::elementOf(contexts_read);
      (void)replicas[replica].write(node_pool[replica], context, *gen_optional_value(), now, mode,
                                    limits, counters);
      contexts_read.push_back(replicas[replica].context());
    }
    SiblingSet merged;
    for (const SiblingSet& state : replicas) merged.merge(state, mode, limits, counters);
    return *rc::gen::element(merged, merged, replicas[0]);
  });
}

rc::Gen<WireStatus> gen_wire_status() {
  return rc::gen::exec([] {
    WireStatus status;
    status.code = static_cast<Code>(uniform_in(0, 9));
    status.message = *gen_bytes();
    return status;
  });
}

rc::Gen<Message> gen_replica_write() {
  return rc::gen::exec([]() -> Message {
    return ReplicaWrite{*rc::gen::arbitrary<RequestId>(), *gen_bytes(), *gen_sibling_set()};
  });
}

rc::Gen<Message> gen_replica_write_reply() {
  return rc::gen::exec([]() -> Message {
    return ReplicaWriteReply{*rc::gen::arbitrary<RequestId>(), *gen_wire_status()};
  });
}

rc::Gen<Message> gen_replica_read() {
  return rc::gen::exec([]() -> Message {
    return ReplicaRead{*rc::gen::arbitrary<RequestId>(), *gen_bytes()};
  });
}

rc::Gen<Message> gen_replica_read_reply() {
  return rc::gen::exec([]() -> Message {
    return ReplicaReadReply{*rc::gen::arbitrary<RequestId>(), *gen_wire_status(),
                            *gen_sibling_set()};
  });
}

rc::Gen<Message> gen_coordinate_request() {
  return rc::gen::exec([]() -> Message {
    CoordinateRequest request;
    request.request_id = *rc::gen::arbitrary<RequestId>();
    request.consistency =
        *rc::gen::element(Consistency::one, Consistency::quorum, Consistency::all,
                          Consistency::default_level);
    request.key = *gen_bytes();
    request.is_write = *rc::gen::arbitrary<bool>();
    request.value = *gen_optional_value();
    request.context = *gen_clock();
    request.context_from_coordinator = *rc::gen::arbitrary<bool>();
    return request;
  });
}

rc::Gen<Message> gen_coordinate_reply() {
  return rc::gen::exec([]() -> Message {
    return CoordinateReply{*rc::gen::arbitrary<RequestId>(), *gen_wire_status(), *gen_sibling_set(),
                           *rc::gen::arbitrary<std::uint32_t>(), *rc::gen::arbitrary<bool>()};
  });
}

rc::Gen<NodeId> gen_optional_node_id() {
  return rc::gen::oneOf(rc::gen::just(NodeId{}), gen_node_id());
}

rc::Gen<Message> gen_gossip() {
  return rc::gen::exec([]() -> Message {
    Gossip gossip;
    const auto count = *rc::gen::inRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < count; ++i) {
      gossip.members.push_back(MemberInfo{*gen_node_id(), *gen_bytes(),
                                          *rc::gen::arbitrary<std::uint64_t>(),
                                          *rc::gen::arbitrary<std::uint64_t>(),
                                          *rc::gen::arbitrary<std::uint64_t>()});
    }
    gossip.is_reply = *rc::gen::arbitrary<bool>();
    return gossip;
  });
}

rc::Gen<Message> gen_ping() {
  return rc::gen::exec([]() -> Message {
    return Ping{*rc::gen::arbitrary<std::uint64_t>(), *gen_optional_node_id()};
  });
}

rc::Gen<Message> gen_ping_ack() {
  return rc::gen::exec([]() -> Message {
    return PingAck{*rc::gen::arbitrary<std::uint64_t>(), *gen_optional_node_id(), *gen_node_id()};
  });
}

rc::Gen<Message> gen_ping_request() {
  return rc::gen::exec([]() -> Message {
    return PingRequest{*rc::gen::arbitrary<std::uint64_t>(), *gen_node_id()};
  });
}

rc::Gen<Message> gen_hint_write() {
  return rc::gen::exec([]() -> Message {
    return HintWrite{*rc::gen::arbitrary<RequestId>(), *gen_node_id(), *gen_bytes(),
                     *gen_sibling_set()};
  });
}

rc::Gen<Message> gen_hint_delivery() {
  return rc::gen::exec([]() -> Message {
    return HintDelivery{*rc::gen::arbitrary<std::uint64_t>(), *gen_bytes(), *gen_sibling_set()};
  });
}

rc::Gen<Message> gen_hint_delivery_reply() {
  return rc::gen::exec([]() -> Message {
    return HintDeliveryReply{*rc::gen::arbitrary<std::uint64_t>(), *gen_wire_status()};
  });
}

// ---- anti-entropy: tree coordinates always within the bounds (refusals are tested below) ----

rc::Gen<std::vector<NodeId>> gen_replicas() {
  return rc::gen::container<std::vector<NodeId>>(uniform_in<std::size_t>(0, 6), gen_node_id());
}

rc::Gen<std::vector<AeKeyState>> gen_key_states() {
  return rc::gen::exec([] {
    std::vector<AeKeyState> states(*rc::gen::inRange<std::size_t>(0, 4));
    for (AeKeyState& state : states) state = AeKeyState{*gen_bytes(), *gen_sibling_set()};
    return states;
  });
}

rc::Gen<Message> gen_ae_tree_request() {
  return rc::gen::exec([]() -> Message {
    AeTreeRequest request;
    request.exchange_id = *rc::gen::arbitrary<RequestId>();
    request.replicas = *gen_replicas();
    request.depth = uniform_in<std::uint32_t>(0, merkle_depth_max + 1);
    request.level = uniform_in<std::uint32_t>(0, request.depth + 1);
    request.levels_down =
        uniform_in<std::uint32_t>(0, std::min(ae_levels_down_max, request.depth - request.level) + 1);
    const auto count = *rc::gen::inRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < count; ++i) {
      request.indices.push_back(uniform_in<std::uint64_t>(0, std::uint64_t{1} << request.level));
    }
    return request;
  });
}

rc::Gen<Message> gen_ae_tree_reply() {
  return rc::gen::exec([]() -> Message {
    AeTreeReply reply{*rc::gen::arbitrary<RequestId>(), *gen_wire_status(), {}};
    const auto count = *rc::gen::inRange<std::size_t>(0, 16);
    for (std::size_t i = 0; i < count; ++i) {
      reply.nodes.push_back(AeTreeNode{*rc::gen::arbitrary<std::uint64_t>(),
                                       *rc::gen::arbitrary<std::uint64_t>()});
    }
    return reply;
  });
}

rc::Gen<Message> gen_ae_keys_request() {
  return rc::gen::exec([]() -> Message {
    AeKeysRequest request;
    request.exchange_id = *rc::gen::arbitrary<RequestId>();
    request.replicas = *gen_replicas();
    request.depth = uniform_in<std::uint32_t>(0, merkle_depth_max + 1);
    request.level = uniform_in<std::uint32_t>(0, request.depth + 1);
    request.index = uniform_in<std::uint64_t>(0, std::uint64_t{1} << request.level);
    request.after = *rc::gen::oneOf(rc::gen::just(Key{}), gen_bytes());  // empty: from the start
    return request;
  });
}

rc::Gen<Message> gen_ae_keys_reply() {
  return rc::gen::exec([]() -> Message {
    AeKeysReply reply{*rc::gen::arbitrary<RequestId>(), *gen_wire_status(), {},
                      *rc::gen::arbitrary<bool>()};
    const auto count = *rc::gen::inRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < count; ++i) {
      reply.keys.push_back(AeKeyHash{*gen_bytes(), *rc::gen::arbitrary<std::uint64_t>()});
    }
    return reply;
  });
}

rc::Gen<Message> gen_ae_sync() {
  return rc::gen::exec([]() -> Message {
    return AeSync{*rc::gen::arbitrary<RequestId>(), *gen_key_states(),
                  *rc::gen::container<std::vector<Key>>(gen_bytes())};
  });
}

rc::Gen<Message> gen_ae_sync_reply() {
  return rc::gen::exec([]() -> Message {
    return AeSyncReply{*rc::gen::arbitrary<RequestId>(), *gen_wire_status(), *gen_key_states()};
  });
}

rc::Gen<std::vector<TombstoneEntry>> gen_tombstone_entries() {
  return rc::gen::exec([] {
    std::vector<TombstoneEntry> entries;
    const auto count = *rc::gen::inRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < count; ++i) {
      entries.push_back(TombstoneEntry{*gen_bytes(), *rc::gen::arbitrary<std::uint64_t>()});
    }
    return entries;
  });
}

rc::Gen<Message> gen_tombstone_query() {
  return rc::gen::exec([]() -> Message {
    return TombstoneQuery{*rc::gen::arbitrary<RequestId>(), *gen_tombstone_entries()};
  });
}

rc::Gen<Message> gen_tombstone_query_reply() {
  return rc::gen::exec([]() -> Message {
    return TombstoneQueryReply{
        *rc::gen::arbitrary<RequestId>(),
        *rc::gen::container<std::vector<std::uint8_t>>(rc::gen::inRange<std::uint8_t>(0, 2))};
  });
}

rc::Gen<Message> gen_tombstone_reap() {
  return rc::gen::exec([]() -> Message { return TombstoneReap{*gen_tombstone_entries()}; });
}

rc::Gen<Message> gen_key_scan() {
  return rc::gen::exec([]() -> Message {
    return KeyScan{*rc::gen::arbitrary<RequestId>(), *rc::gen::arbitrary<Token>(),
                   *rc::gen::arbitrary<Token>(), *rc::gen::arbitrary<std::uint32_t>()};
  });
}

rc::Gen<Message> gen_key_scan_reply() {
  return rc::gen::exec([]() -> Message {
    KeyScanReply reply{*rc::gen::arbitrary<RequestId>(), *gen_wire_status(), {},
                       *rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<Token>()};
    const auto count = *rc::gen::inRange<std::size_t>(0, 8);
    for (std::size_t i = 0; i < count; ++i) reply.keys.push_back(*gen_bytes());
    return reply;
  });
}

rc::Gen<Message> gen_key_count() {
  return rc::gen::exec([]() -> Message { return KeyCount{*rc::gen::arbitrary<RequestId>()}; });
}

rc::Gen<Message> gen_key_count_reply() {
  return rc::gen::exec([]() -> Message {
    return KeyCountReply{*rc::gen::arbitrary<RequestId>(), *gen_wire_status(),
                         *rc::gen::arbitrary<std::uint64_t>()};
  });
}

// One generator per wire type, in wire-type order.
std::vector<rc::Gen<Message>> message_generators() {
  return {gen_replica_write(),      gen_replica_write_reply(), gen_replica_read(),
          gen_replica_read_reply(), gen_coordinate_request(),  gen_coordinate_reply(),
          gen_gossip(),             gen_ping(),                gen_ping_ack(),
          gen_ping_request(),       gen_hint_write(),          gen_hint_delivery(),
          gen_hint_delivery_reply(), gen_ae_tree_request(),    gen_ae_tree_reply(),
          gen_ae_keys_request(),    gen_ae_keys_reply(),       gen_ae_sync(),
          gen_ae_sync_reply(),      gen_tombstone_query(),     gen_tombstone_query_reply(),
          gen_tombstone_reap(),     gen_key_scan(),            gen_key_scan_reply(),
          gen_key_count(),          gen_key_count_reply()};
}
static_assert(std::variant_size_v<Message> == 26,
              "a message was added: add its generator to message_generators()");

rc::Gen<Envelope> gen_envelope(rc::Gen<Message> message) {
  return rc::gen::exec([message] { return Envelope{*gen_node_id(), *gen_node_id(), *message}; });
}

rc::Gen<Envelope> gen_any_envelope() {
  return rc::gen::exec([] {
    const auto generators = message_generators();
    return *gen_envelope(generators[uniform_in<std::size_t>(0, generators.size())]);
  });
}

TEST(CodecGenerators, CoverEveryMessageType) {
  const auto generators = message_generators();
  ASSERT_EQ(generators.size(), message_type_count);
  for (std::size_t type = 0; type < generators.size(); ++type) {
    EXPECT_EQ(generators[type](rc::Random(type), 10).value().index(), type);
  }
}

// ---- round trips ----

void check_frame_round_trip(const Envelope& envelope) {
  Result<std::string> frame = encode_frame(envelope);
  if (!frame.ok()) RC_FAIL(frame.status().to_string());
  RC_ASSERT(type_of(*frame) == envelope.message.index());
  Result<std::size_t> size = frame_size(*frame);
  RC_ASSERT(size.ok());
  RC_ASSERT(*size == frame->size());
  Result<Envelope> decoded = decode_frame(*frame);
  if (!decoded.ok()) RC_FAIL(decoded.status().to_string());
  RC_ASSERT(*decoded == envelope);
}

RC_GTEST_PROP(CodecRoundTrip, Gossip, ()) { check_frame_round_trip(*gen_envelope(gen_gossip())); }
RC_GTEST_PROP(CodecRoundTrip, PingAndAcks, ()) {
  check_frame_round_trip(*gen_envelope(gen_ping()));
  check_frame_round_trip(*gen_envelope(gen_ping_ack()));
  check_frame_round_trip(*gen_envelope(gen_ping_request()));
}
RC_GTEST_PROP(CodecRoundTrip, Hints, ()) {
  check_frame_round_trip(*gen_envelope(gen_hint_write()));
  check_frame_round_trip(*gen_envelope(gen_hint_delivery()));
  check_frame_round_trip(*gen_envelope(gen_hint_delivery_reply()));
}
RC_GTEST_PROP(CodecRoundTrip, AntiEntropyTrees, ()) {
  check_frame_round_trip(*gen_envelope(gen_ae_tree_request()));
  check_frame_round_trip(*gen_envelope(gen_ae_tree_reply()));
}
RC_GTEST_PROP(CodecRoundTrip, AntiEntropyKeys, ()) {
  check_frame_round_trip(*gen_envelope(gen_ae_keys_request()));
  check_frame_round_trip(*gen_envelope(gen_ae_keys_reply()));
}
RC_GTEST_PROP(CodecRoundTrip, AntiEntropySync, ()) {
  check_frame_round_trip(*gen_envelope(gen_ae_sync()));
  check_frame_round_trip(*gen_envelope(gen_ae_sync_reply()));
}
RC_GTEST_PROP(CodecRoundTrip, ReplicaWrite, ()) {
  check_frame_round_trip(*gen_envelope(gen_replica_write()));
}
RC_GTEST_PROP(CodecRoundTrip, ReplicaWriteReply, ()) {
  check_frame_round_trip(*gen_envelope(gen_replica_write_reply()));
}
RC_GTEST_PROP(CodecRoundTrip, ReplicaRead, ()) {
  check_frame_round_trip(*gen_envelope(gen_replica_read()));
}
RC_GTEST_PROP(CodecRoundTrip, ReplicaReadReply, ()) {
  check_frame_round_trip(*gen_envelope(gen_replica_read_reply()));
}
RC_GTEST_PROP(CodecRoundTrip, CoordinateRequest, ()) {
  check_frame_round_trip(*gen_envelope(gen_coordinate_request()));
}
RC_GTEST_PROP(CodecRoundTrip, CoordinateReply, ()) {
  check_frame_round_trip(*gen_envelope(gen_coordinate_reply()));
}

RC_GTEST_PROP(CodecRoundTrip, SiblingSet, ()) {
  const SiblingSet set = *gen_sibling_set();
  bool has_tombstone = false;
  bool has_empty_value = false;
  for (const Version& version : set.versions()) {
    has_tombstone = has_tombstone || version.is_tombstone();
    has_empty_value = has_empty_value || (version.value && version.value->empty());
  }
  RC_TAG(set.size() < 2 ? "versions: " + std::to_string(set.size()) : std::string("siblings"));
  RC_CLASSIFY(has_tombstone);
  RC_CLASSIFY(has_empty_value);
  const std::string bytes = encode_sibling_set(set);
  Result<SiblingSet> decoded = decode_sibling_set(bytes);
  if (!decoded.ok()) RC_FAIL(decoded.status().to_string());
  RC_ASSERT(*decoded == set);
  RC_ASSERT(encode_sibling_set(*decoded) == bytes);
}

RC_GTEST_PROP(CodecRoundTrip, Clock, ()) {
  const VectorClock clock = *gen_clock();
  const std::string bytes = encode_clock(clock);
  Result<VectorClock> decoded = decode_clock(bytes);
  if (!decoded.ok()) RC_FAIL(decoded.status().to_string());
  RC_ASSERT(*decoded == clock);
}

// ---- the layout, pinned byte for byte ----

TEST(CodecLayout, ReplicaReadFrameIsExactlyTheDocumentedBytes) {
  const Envelope envelope{"n1", "n2", ReplicaRead{7, "k"}};
  const std::string payload = std::string("\x02\0\0\0n1\x02\0\0\0n2", 12) +
                              std::string("\x07\0\0\0\0\0\0\0", 8) + std::string("\x01\0\0\0k", 5);
  const std::string frame = encoded(envelope);
  EXPECT_EQ(frame.substr(0, 8), std::string("\x47\x56\x06\x02\x19\0\0\0", 8));
  EXPECT_EQ(frame, reframe(2, payload));
  EXPECT_EQ(frame_size(frame).value(), 16u + 25u);
}

TEST(CodecLayout, TombstoneAndEmptyValueStayDistinct) {
  CoordinateRequest request{1, Consistency::one, "k", true, std::nullopt, VectorClock()};
  const Envelope tombstone{"n1", "n2", request};
  request.value = Value();
  const Envelope empty{"n1", "n2", request};
  const std::string tombstone_frame = encoded(tombstone);
  const std::string empty_frame = encoded(empty);
  EXPECT_NE(tombstone_frame, empty_frame);
  const Result<Envelope> tombstone_result = decode_frame(tombstone_frame);
  const Result<Envelope> empty_result = decode_frame(empty_frame);
  ASSERT_TRUE(tombstone_result.ok() && empty_result.ok());
  const auto& decoded_tombstone = std::get<CoordinateRequest>(tombstone_result->message);
  const auto& decoded_empty = std::get<CoordinateRequest>(empty_result->message);
  EXPECT_FALSE(decoded_tombstone.value.has_value());
  ASSERT_TRUE(decoded_empty.value.has_value());
  EXPECT_EQ(*decoded_empty.value, "");
}

TEST(CodecLayout, MessageTypeNamesFollowTheVariant) {
  EXPECT_EQ(message_type_name(0), "ReplicaWrite");
  EXPECT_EQ(message_type_name(5), "CoordinateReply");
  EXPECT_EQ(message_type_name(6), "Gossip");
  EXPECT_EQ(message_type_name(12), "HintDeliveryReply");
  EXPECT_EQ(message_type_name(13), "AeTreeRequest");
  EXPECT_EQ(message_type_name(message_type_count - 1), "KeyCountReply");
  EXPECT_EQ(message_type_name(message_type_count), "unknown");
}

TEST(CodecLayout, NodeIdOf64CharactersIsTheLongestAccepted) {
  const NodeId longest(64, 'a');
  EXPECT_EQ(decode_frame(encoded({longest, "n2", ReplicaRead{1, "k"}}))->from, longest);
  const Result<std::string> too_long = encode_frame({NodeId(65, 'a'), "n2", ReplicaRead{}});
  EXPECT_EQ(too_long.status().code(), Code::invalid_argument);
  EXPECT_EQ(too_long.status().message(), "ReplicaRead.from: invalid node id");
}

// ---- the encoder refuses what the decoder would refuse ----

TEST(CodecEncode, RefusesAKeyOverTheBound) {
  const Envelope envelope{"n1", "n2", ReplicaRead{1, Key(key_size_bytes_max + 1, 'k')}};
  const Result<std::string> frame = encode_frame(envelope);
  EXPECT_EQ(frame.status().code(), Code::invalid_argument);
  EXPECT_EQ(frame.status().message(),
            "ReplicaRead.key: length 65537 exceeds key_size_bytes_max (65536)");
  const Envelope longest{"n1", "n2", ReplicaRead{1, Key(key_size_bytes_max, 'k')}};
  EXPECT_EQ(*decode_frame(encoded(longest)), longest);
}

TEST(CodecEncode, RefusesAnInvalidNodeIdInAClock) {
  VectorClock context;
  context.set("bad id", ClockEntry{1, 0});
  const Envelope envelope{"n1", "n2",
                          CoordinateRequest{1, Consistency::all, "k", false, {}, context}};
  const Result<std::string> frame = encode_frame(envelope);
  EXPECT_EQ(frame.status().code(), Code::invalid_argument);
  EXPECT_EQ(frame.status().message(), "CoordinateRequest.entries.node: invalid node id");
}

TEST(CodecEncode, RefusesEnumsOutOfRange) {
  const Result<std::string> code =
      encode_frame({"n1", "n2", ReplicaWriteReply{1, {static_cast<Code>(200), ""}}});
  EXPECT_EQ(code.status().message(), "ReplicaWriteReply.status.code: unknown");
  CoordinateRequest request;
  request.consistency = static_cast<Consistency>(4);
  EXPECT_EQ(encode_frame({"n1", "n2", request}).status().message(),
            "CoordinateRequest.consistency: unknown");
}

TEST(CodecEncode, TruncatesALongStatusMessage) {
  const std::string message(status_message_bytes_max + 100, 'm');
  const Envelope envelope{"n1", "n2", ReplicaWriteReply{1, {Code::timeout, message}}};
  const auto decoded = std::get<ReplicaWriteReply>(decode_frame(encoded(envelope))->message);
  EXPECT_EQ(decoded.status.code, Code::timeout);
  EXPECT_EQ(decoded.status.message, message.substr(0, status_message_bytes_max));
}

TEST(CodecEncode, RefusesAPayloadOverTheFrameBound) {
  // Five siblings of 13 MiB: each value is within bounds, the whole is not.
  SiblingSet set;
  VersionCounters counters;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(set.write(node_pool[0], VectorClock(), Value(13 * 1024 * 1024, 'v'), 1000 + i,
                          ConflictMode::siblings, SiblingLimits(), counters)
                    .ok());
  }
  ASSERT_EQ(set.size(), 5u);
  const Result<std::string> frame = encode_frame({"n1", "n2", ReplicaWrite{1, "k", set}});
  EXPECT_EQ(frame.status().code(), Code::resource_exhausted);
  EXPECT_EQ(frame.status().message(),
            "ReplicaWrite: payload exceeds frame_size_bytes_max (67108864)");
}

// ---- the header ----

TEST(CodecHeader, FrameSizeNeedsTheWholeHeader) {
  const std::string frame = encoded({"n1", "n2", ReplicaRead{1, "k"}});
  for (std::size_t size = 0; size < frame_header_bytes; ++size) {
    const Result<std::size_t> result = frame_size(frame.substr(0, size));
    EXPECT_EQ(result.status().code(), Code::invalid_argument);
    EXPECT_TRUE(contains(result.status().message(), "header needs 16 bytes")) << size;
  }
  EXPECT_EQ(frame_size(frame.substr(0, frame_header_bytes)).value(), frame.size());
}

TEST(CodecHeader, RefusesAnOversizedLengthWithoutAllocating) {
  std::string frame = encoded({"n1", "n2", ReplicaRead{1, "k"}});
  ByteWriter length;
  length.write_u32(999'999'999);
  frame.replace(4, 4, length.bytes());
  largest_allocation_bytes = 0;
  const Result<Envelope> decoded = decode_frame(frame);
  const std::size_t allocated = largest_allocation_bytes;
  EXPECT_EQ(decoded.status().code(), Code::invalid_argument);
  EXPECT_EQ(decoded.status().message(),
            "frame: payload length 999999999 exceeds frame_size_bytes_max (67108864)");
  EXPECT_LT(allocated, 4096u);
  EXPECT_EQ(frame_size(frame).status(), decoded.status());
}

TEST(CodecHeader, NamesEachBadHeaderField) {
  const std::string frame = encoded({"n1", "n2", ReplicaRead{1, "k"}});
  std::string bad = frame;
  bad[0] = 'X';
  EXPECT_EQ(decode_frame(bad).status().message(), "frame: bad magic 0x5658 (expected 0x5647)");
  bad = frame;
  bad[2] = 9;
  EXPECT_EQ(decode_frame(bad).status().message(),
            "frame: wire version 9 is not supported (this binary speaks 6)");
  bad = frame;
  bad[3] = static_cast<char>(message_type_count);
  EXPECT_EQ(decode_frame(bad).status().message(),
            "frame: unknown message type " + std::to_string(message_type_count));
  EXPECT_EQ(decode_frame(frame + "x").status().message(),
            "frame: 42 bytes given, the header says 41");
  bad = frame;
  bad[3] = 0;  // a valid type: the checksum's seed covers it
  EXPECT_EQ(decode_frame(bad).status().code(), Code::corruption);
  bad = frame;
  bad.back() = 'z';
  EXPECT_EQ(decode_frame(bad).status(),
            Status(Code::corruption, "frame: checksum mismatch (ReplicaRead, 25 payload bytes)"));
}

// ---- forged payloads with valid checksums: each bound and range check ----

// from "n1", to "n2", then the message's fields from `fields`.
std::string forged_frame(std::uint8_t type, const ByteWriter& fields) {
  ByteWriter payload;
  payload.write_string("n1", {64, "node"}, "from");
  payload.write_string("n2", {64, "node"}, "to");
  return reframe(type, payload.bytes() + fields.bytes());
}

Status decode_error(const std::string& frame) {
  return decode_frame(frame).status();
}

constexpr SizeBound any_size{UINT32_MAX, "test"};

TEST(CodecForged, KeyLengthsAreBoundedBeforeAllocation) {
  ByteWriter fields;
  fields.write_u64(1);
  fields.write_u32(UINT32_MAX);  // key length
  largest_allocation_bytes = 0;
  Status status = decode_error(forged_frame(2, fields));
  EXPECT_LT(largest_allocation_bytes.load(), 4096u);
  EXPECT_EQ(status,
            Status(Code::invalid_argument,
                   "ReplicaRead.key: length 4294967295 exceeds key_size_bytes_max (65536)"));

  ByteWriter within_bound;
  within_bound.write_u64(1);
  within_bound.write_u32(60'000);  // within the bound, but only 3 bytes follow
  within_bound.write_u8('a');
  within_bound.write_u16(0);
  largest_allocation_bytes = 0;
  status = decode_error(forged_frame(2, within_bound));
  EXPECT_LT(largest_allocation_bytes.load(), 4096u);
  EXPECT_EQ(status.message(), "ReplicaRead.key: truncated (length 60000, 3 bytes remain)");
}

TEST(CodecForged, ValueLengthsAreBoundedBeforeAllocation) {
  ByteWriter fields;
  fields.write_u64(1);
  fields.write_u8(1);  // consistency
  fields.write_string("k", any_size, "key");
  fields.write_bool(true);
  fields.write_bool(true);                                             // value present
  fields.write_u32(static_cast<std::uint32_t>(value_size_bytes_max));  // but 0 bytes follow
  largest_allocation_bytes = 0;
  Status status = decode_error(forged_frame(4, fields));
  EXPECT_LT(largest_allocation_bytes.load(), 4096u);
  EXPECT_EQ(status.message(),
            "CoordinateRequest.value: truncated (length 16777216, 0 bytes "
            "remain)");

  ByteWriter over;
  over.write_u64(1);
  over.write_u8(1);
  over.write_string("k", any_size, "key");
  over.write_bool(true);
  over.write_bool(true);
  over.write_u32(static_cast<std::uint32_t>(value_size_bytes_max + 1));
  EXPECT_EQ(decode_error(forged_frame(4, over)).message(),
            "CoordinateRequest.value: length 16777217 exceeds value_size_bytes_max (16777216)");
}

TEST(CodecForged, CountsAreBoundedBeforeReserving) {
  for (const std::uint32_t count : {1025u, UINT32_MAX}) {
    ByteWriter fields;
    fields.write_u64(1);
    fields.write_string("k", any_size, "key");
    fields.write_u32(count);  // state.versions
    largest_allocation_bytes = 0;
    const Status status = decode_error(forged_frame(0, fields));
    EXPECT_LT(largest_allocation_bytes.load(), 4096u);
    EXPECT_EQ(status.message(), "ReplicaWrite.state.versions: count " + std::to_string(count) +
                                    " exceeds siblings_decoded_max (1024)");
  }
  ByteWriter fields;
  fields.write_u64(1);
  fields.write_string("k", any_size, "key");
  fields.write_u32(1000);  // within the bound, but no versions follow
  largest_allocation_bytes = 0;
  const Status status = decode_error(forged_frame(0, fields));
  EXPECT_LT(largest_allocation_bytes.load(), 4096u);
  EXPECT_EQ(status.message(),
            "ReplicaWrite.state.versions: truncated (count 1000 needs at least 34000 bytes, "
            "0 remain)");

  ByteWriter clock;
  clock.write_u64(1);
  clock.write_u8(0);
  clock.write_string("k", any_size, "key");
  clock.write_bool(false);
  clock.write_bool(false);
  clock.write_u32(5000);
  EXPECT_EQ(decode_error(forged_frame(4, clock)).message(),
            "CoordinateRequest.context.entries: count 5000 exceeds clock_entries_max (1024)");
}

// A CoordinateRequest payload with each field chosen by the caller.
ByteWriter request_fields(std::uint8_t consistency, std::uint8_t is_write, std::uint8_t present) {
  ByteWriter fields;
  fields.write_u64(1);
  fields.write_u8(consistency);
  fields.write_string("k", any_size, "key");
  fields.write_u8(is_write);
  fields.write_u8(present);
  return fields;
}

TEST(CodecForged, EnumsAndBooleansAreRangeChecked) {
  ByteWriter good = request_fields(2, 1, 0);
  good.write_u32(0);
  ByteWriter from_coordinator = good;
  good.write_u8(1);  // context_from_coordinator
  ByteWriter increment = good;
  good.write_u8(0);  // no increment
  EXPECT_TRUE(decode_frame(forged_frame(4, good)).ok());
  increment.write_u8(1);  // a write without a value, from the coordinator: an INCRBY
  increment.write_i64(5);
  EXPECT_TRUE(decode_frame(forged_frame(4, increment)).ok());
  ByteWriter read_increment = request_fields(2, 0, 0);  // an increment on a read: refused
  read_increment.write_u32(0);
  read_increment.write_u8(1);
  read_increment.write_u8(1);
  read_increment.write_i64(5);
  EXPECT_EQ(decode_error(forged_frame(4, read_increment)).message(),
            "CoordinateRequest.increment: only on a write without a value, from the coordinator");
  from_coordinator.write_u8(2);
  EXPECT_EQ(decode_error(forged_frame(4, from_coordinator)).message(),
            "CoordinateRequest.context_from_coordinator: byte 2 is not 0 or 1");

  ByteWriter consistency = request_fields(4, 1, 0);
  consistency.write_u32(0);
  EXPECT_EQ(decode_error(forged_frame(4, consistency)).message(),
            "CoordinateRequest.consistency: unknown consistency level 4");
  ByteWriter is_write = request_fields(0, 2, 0);
  is_write.write_u32(0);
  EXPECT_EQ(decode_error(forged_frame(4, is_write)).message(),
            "CoordinateRequest.is_write: byte 2 is not 0 or 1");
  ByteWriter present = request_fields(0, 0, 7);
  present.write_u32(0);
  EXPECT_EQ(decode_error(forged_frame(4, present)).message(),
            "CoordinateRequest.value.present: byte 7 is not 0, 1 or 2");
  // Tag 2 (a value with an expiry) needs an expiry after the epoch (docs/expiry.md).
  ByteWriter no_expiry = request_fields(0, 1, 2);
  no_expiry.write_i64(0);
  EXPECT_EQ(decode_error(forged_frame(4, no_expiry)).message(),
            "CoordinateRequest.expires_at_us: must be > 0 after tag 2");

  ByteWriter code;
  code.write_u64(1);
  code.write_u8(9);  // one past failed_precondition
  code.write_string("", any_size, "message");
  EXPECT_EQ(decode_error(forged_frame(1, code)).message(),
            "ReplicaWriteReply.status.code: unknown status code 9");
}

TEST(CodecForged, TrailingBytesAreRefused) {
  const std::string frame = encoded({"n1", "n2", ReplicaRead{1, "k"}});
  EXPECT_EQ(decode_error(reframe(2, payload_of(frame) + "z")),
            Status(Code::invalid_argument, "ReplicaRead: 1 trailing bytes after the last field"));
}

// A clock in a CoordinateRequest from (node, counter) pairs as given.
Status decode_context(const std::vector<std::pair<std::string, std::uint64_t>>& entries) {
  ByteWriter fields = request_fields(0, 0, 0);
  fields.write_u32(static_cast<std::uint32_t>(entries.size()));
  for (const auto& [node, counter] : entries) {
    fields.write_string(node, any_size, "node");
    fields.write_u64(counter);
    fields.write_i64(0);
  }
  fields.write_u8(0);  // context_from_coordinator
  fields.write_u8(0);  // increment: none
  return decode_error(forged_frame(4, fields));
}

TEST(CodecForged, ClockEntriesMustBeValidAndStrictlyAscending) {
  EXPECT_TRUE(decode_context({{"n1", 1}, {"n2", 5}}).ok());
  EXPECT_EQ(decode_context({{"n2", 1}, {"n1", 5}}).message(),
            "CoordinateRequest.context.entries[1].node: not in strictly ascending order");
  EXPECT_EQ(decode_context({{"n1", 1}, {"n1", 5}}).message(),
            "CoordinateRequest.context.entries[1].node: not in strictly ascending order");
  EXPECT_EQ(decode_context({{"n1", 0}}).message(),
            "CoordinateRequest.context.entries[0].counter: must be > 0");
  EXPECT_EQ(decode_context({{"n 1", 1}}).message(),
            "CoordinateRequest.context.entries[0].node: invalid node id (1-64 characters of "
            "[A-Za-z0-9_.-])");
  EXPECT_EQ(decode_context({{"", 1}}).code(), Code::invalid_argument);
}

// A stored set from one hand-written version.
std::string forged_set(const std::string& node, std::uint64_t counter,
                       const std::optional<Value>& value, std::uint64_t checksum) {
  ByteWriter bytes;
  bytes.write_u32(1);
  bytes.write_string(node, any_size, "node");
  bytes.write_u64(counter);
  bytes.write_u32(0);  // empty context
  bytes.write_i64(42);
  bytes.write_bool(value.has_value());
  if (value) bytes.write_string(*value, any_size, "value");
  bytes.write_u64(checksum);
  return bytes.take();
}

TEST(CodecForged, DecodedVersionsAreValidated) {
  const std::optional<Value> value = Value("v");
  EXPECT_TRUE(decode_sibling_set(forged_set("n1", 1, value, value_checksum(value))).ok());
  const Result<SiblingSet> bad_checksum =
      decode_sibling_set(forged_set("n1", 1, value, value_checksum(value) ^ 1));
  EXPECT_EQ(bad_checksum.status().code(), Code::corruption);
  EXPECT_TRUE(contains(bad_checksum.status().message(), "SiblingSet.versions: "));
  EXPECT_EQ(decode_sibling_set(forged_set("n1", 0, value, value_checksum(value))).status(),
            Status(Code::invalid_argument, "SiblingSet.versions[0].dot.counter: must be > 0"));
  // A tombstone carries the tombstone checksum, not the empty value's.
  const std::optional<Value> empty = Value();
  EXPECT_TRUE(
      decode_sibling_set(forged_set("n1", 1, std::nullopt, value_checksum(std::nullopt))).ok());
  EXPECT_EQ(
      decode_sibling_set(forged_set("n1", 1, std::nullopt, value_checksum(empty))).status().code(),
      Code::corruption);
}

TEST(CodecForged, SiblingSetInvariantsAreEnforced) {
  // Two siblings written through one coordinator with no context, stored out of order.
  SiblingSet set;
  VersionCounters counters;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(set.write("n1", VectorClock(), Value("v"), 10 + i, ConflictMode::siblings,
                          SiblingLimits(), counters)
                    .ok());
  }
  ASSERT_EQ(set.size(), 2u);
  const SiblingSet one_version = [&] {
    SiblingSet first;
    VersionCounters unused;
    (void)first.write("n1", VectorClock(), Value("v"), 10, ConflictMode::siblings, SiblingLimits(),
                      unused);
    return first;
  }();
  const std::string first = encode_sibling_set(one_version).substr(4);
  const std::string both = encode_sibling_set(set);
  const std::string second = both.substr(4 + first.size());
  ByteWriter swapped;
  swapped.write_u32(2);
  const std::string bytes = swapped.bytes() + second + first;
  const Result<SiblingSet> decoded = decode_sibling_set(bytes);
  EXPECT_EQ(decoded.status().code(), Code::invalid_argument);
  EXPECT_TRUE(contains(decoded.status().message(), "SiblingSet.versions: "));
  EXPECT_EQ(decode_sibling_set(swapped.bytes() + first + first).status().code(),
            Code::invalid_argument);  // a duplicate dot
}

// ---- anti-entropy: tree coordinates and list sizes ----

// An AeTreeRequest payload: exchange 1, replicas {"n1"}, the given coordinates, no indices
// unless the caller appends them.
ByteWriter tree_request_fields(std::uint32_t depth, std::uint32_t level,
                               std::uint32_t levels_down) {
  ByteWriter fields;
  fields.write_u64(1);
  fields.write_u32(1);
  fields.write_string("n1", any_size, "replica");
  fields.write_u32(depth);
  fields.write_u32(level);
  fields.write_u32(levels_down);
  return fields;
}

std::string tree_request_error(ByteWriter fields, std::vector<std::uint64_t> indices) {
  fields.write_u32(static_cast<std::uint32_t>(indices.size()));
  for (const std::uint64_t index : indices) fields.write_u64(index);
  return decode_error(forged_frame(13, fields)).message();
}

std::string encode_error(Message message) {
  return encode_frame({"n1", "n2", std::move(message)}).status().message();
}

TEST(CodecAntiEntropy, TreeCoordinatesAreBounded) {
  EXPECT_EQ(tree_request_error(tree_request_fields(21, 0, 0), {}),
            "AeTreeRequest.depth: depth 21 exceeds merkle_depth_max (20)");
  EXPECT_EQ(tree_request_error(tree_request_fields(UINT32_MAX, 0, 0), {}),
            "AeTreeRequest.depth: depth 4294967295 exceeds merkle_depth_max (20)");
  EXPECT_EQ(tree_request_error(tree_request_fields(10, 11, 0), {}),
            "AeTreeRequest.level: level 11 exceeds depth 10");
  EXPECT_EQ(tree_request_error(tree_request_fields(10, 8, 3), {}),
            "AeTreeRequest.levels_down: level 8 + levels_down 3 exceeds depth 10");
  EXPECT_EQ(tree_request_error(tree_request_fields(20, 0, 13), {}),
            "AeTreeRequest.levels_down: levels_down 13 exceeds ae_levels_down_max (12)");
  EXPECT_EQ(tree_request_error(tree_request_fields(20, 0, UINT32_MAX), {}),
            "AeTreeRequest.levels_down: levels_down 4294967295 exceeds ae_levels_down_max (12)");
  EXPECT_EQ(tree_request_error(tree_request_fields(10, 3, 1), {7, 8}),
            "AeTreeRequest.indices[1]: index 8 is not below 2^level (8)");
  EXPECT_EQ(tree_request_error(tree_request_fields(10, 0, 1), {1}),
            "AeTreeRequest.indices[0]: index 1 is not below 2^level (1)");
  // The encoder refuses the same, naming the same fields.
  EXPECT_EQ(encode_error(AeTreeRequest{1, {"n1"}, 21, 0, 0, {}}),
            "AeTreeRequest.depth: depth 21 exceeds merkle_depth_max (20)");
  EXPECT_EQ(encode_error(AeTreeRequest{1, {"n1"}, 10, 8, 3, {}}),
            "AeTreeRequest.levels_down: level 8 + levels_down 3 exceeds depth 10");
  EXPECT_EQ(encode_error(AeTreeRequest{1, {"n1"}, 10, 3, 1, {7, 8}}),
            "AeTreeRequest.indices: index 8 is not below 2^level (8)");
  EXPECT_EQ(encode_error(AeKeysRequest{1, {"n1"}, 20, 21, 0, ""}),
            "AeKeysRequest.level: level 21 exceeds depth 20");
  EXPECT_EQ(encode_error(AeKeysRequest{1, {"n1"}, 20, 20, std::uint64_t{1} << 20, ""}),
            "AeKeysRequest.index: index 1048576 is not below 2^level (1048576)");
  // The edges are accepted: the deepest leaf, the longest descent.
  const Envelope leaf{"n1", "n2", AeKeysRequest{1, {"n1"}, 20, 20, (1u << 20) - 1, ""}};
  EXPECT_EQ(*decode_frame(encoded(leaf)), leaf);
  const Envelope descent{"n1", "n2", AeTreeRequest{1, {"n1"}, 20, 8, 12, {0, 255}}};
  EXPECT_EQ(*decode_frame(encoded(descent)), descent);
}

TEST(CodecAntiEntropy, KeysRequestFieldsAreChecked) {
  ByteWriter fields;
  fields.write_u64(1);
  fields.write_u32(2);
  fields.write_string("n1", any_size, "replica");
  fields.write_string("bad id", any_size, "replica");
  EXPECT_EQ(decode_error(forged_frame(15, fields)).message(),
            "AeKeysRequest.replicas[1]: invalid node id (1-64 characters of [A-Za-z0-9_.-])");
  EXPECT_EQ(encode_error(AeKeysRequest{1, {"n1", ""}, 4, 2, 3, ""}),
            "AeKeysRequest.replicas: invalid node id");
  ByteWriter index;
  index.write_u64(1);
  index.write_u32(0);
  index.write_u32(4);  // depth
  index.write_u32(2);  // level
  index.write_u64(4);  // index: level 2 has 4 nodes
  EXPECT_EQ(decode_error(forged_frame(15, index)).message(),
            "AeKeysRequest.index: index 4 is not below 2^level (4)");
  EXPECT_EQ(encode_error(AeKeysRequest{1, {"n1"}, 4, 2, 3, Key(key_size_bytes_max + 1, 'k')}),
            "AeKeysRequest.after: length 65537 exceeds key_size_bytes_max (65536)");
}

// A reply's header (exchange 1, status ok with no message) then a forged count.
std::string forged_reply_count(std::uint8_t type, std::uint32_t count) {
  ByteWriter fields;
  fields.write_u64(1);
  fields.write_u8(0);
  fields.write_u32(0);
  fields.write_u32(count);
  largest_allocation_bytes = 0;
  std::string message = decode_error(forged_frame(type, fields)).message();
  EXPECT_LT(largest_allocation_bytes.load(), 4096u);
  return message;
}

TEST(CodecAntiEntropy, ListsAreBoundedBeforeReserving) {
  EXPECT_EQ(forged_reply_count(14, 65537), "AeTreeReply.nodes: count 65537 exceeds ae_nodes_max (65536)");
  EXPECT_EQ(forged_reply_count(14, 1000),
            "AeTreeReply.nodes: truncated (count 1000 needs at least 16000 bytes, 0 remain)");
  EXPECT_EQ(forged_reply_count(16, UINT32_MAX),
            "AeKeysReply.keys: count 4294967295 exceeds ae_keys_max (65536)");
  EXPECT_EQ(forged_reply_count(18, 65537),
            "AeSyncReply.states: count 65537 exceeds ae_keys_max (65536)");
  ByteWriter indices = tree_request_fields(20, 12, 0);
  indices.write_u32(4097);
  EXPECT_EQ(decode_error(forged_frame(13, indices)).message(),
            "AeTreeRequest.indices: count 4097 exceeds ae_indices_max (4096)");
  ByteWriter replicas;
  replicas.write_u64(1);
  replicas.write_u32(1025);
  EXPECT_EQ(decode_error(forged_frame(13, replicas)).message(),
            "AeTreeRequest.replicas: count 1025 exceeds members_max (1024)");
  ByteWriter pull;
  pull.write_u64(1);
  pull.write_u32(0);      // push
  pull.write_u32(65537);  // pull
  EXPECT_EQ(decode_error(forged_frame(17, pull)).message(),
            "AeSync.pull: count 65537 exceeds ae_keys_max (65536)");
  // The encoder refuses what the decoder would.
  AeTreeRequest many{1, {"n1"}, 20, 12, 0, std::vector<std::uint64_t>(ae_indices_max + 1, 0)};
  EXPECT_EQ(encode_error(many), "AeTreeRequest.indices: count 4097 exceeds ae_indices_max (4096)");
  EXPECT_EQ(encode_error(AeSync{1, {}, std::vector<Key>(ae_keys_max + 1)}),
            "AeSync.pull: count 65537 exceeds ae_keys_max (65536)");
  // A named reply, not a braced temporary: GCC 12 at -O3 reports the temporary's
  // value-initialized status message as maybe-uninitialized (a false positive).
  AeTreeReply too_many_nodes;
  too_many_nodes.exchange_id = 1;
  too_many_nodes.nodes.resize(ae_nodes_max + 1);
  EXPECT_EQ(encode_error(too_many_nodes),
            "AeTreeReply.nodes: count 65537 exceeds ae_nodes_max (65536)");
  const Envelope full{"n1", "n2", AeSync{1, {}, std::vector<Key>(ae_keys_max)}};
  EXPECT_EQ(*decode_frame(encoded(full)), full);
}

TEST(CodecAntiEntropy, PushedStatesAreValidated) {
  ByteWriter fields;
  fields.write_u64(1);
  fields.write_u32(1);  // push
  fields.write_string("k", any_size, "key");
  fields.write_u32(2000);  // its versions
  EXPECT_EQ(decode_error(forged_frame(17, fields)).message(),
            "AeSync.push[0].state.versions: count 2000 exceeds siblings_decoded_max (1024)");
}

// ---- robustness ----

RC_GTEST_PROP(CodecRobustness, RandomBytesAreRefusedOrCanonical, ()) {
  const std::string bytes = *gen_bytes();
  check_decodes_canonically_or_fails(bytes);
  const Result<std::size_t> size = frame_size(bytes);
  RC_ASSERT(size.ok() || size.status().code() == Code::invalid_argument);
  // Past the magic and version, into the type/length/payload checks.
  check_decodes_canonically_or_fails(std::string("\x47\x56\x06", 3) + bytes);
}

RC_GTEST_PROP(CodecRobustness, EveryTruncationFails, ()) {
  const std::string frame = encoded(*gen_any_envelope());
  for (std::size_t size = 0; size < frame.size(); ++size) {
    const Result<Envelope> decoded = decode_frame(std::string_view(frame).substr(0, size));
    RC_ASSERT(decoded.status().code() == Code::invalid_argument);
  }
  // The same with the header fixed up, so the payload parser meets the cut.
  const std::string payload = payload_of(frame);
  for (std::size_t size = 0; size < payload.size(); ++size) {
    const Status status = decode_error(reframe(type_of(frame), payload.substr(0, size)));
    RC_ASSERT(status.code() == Code::invalid_argument);
    RC_ASSERT(contains(status.message(), "truncated"));
  }
}

RC_GTEST_PROP(CodecRobustness, EverySingleByteMutationFails, ()) {
  std::string frame = encoded(*gen_any_envelope());
  const auto flip = static_cast<char>(uniform_in(1, 256));
  for (std::size_t i = 0; i < frame.size(); ++i) {
    frame[i] = static_cast<char>(frame[i] ^ flip);
    const Status status = decode_error(frame);
    const std::string& message = status.message();
    if (i < 2) {
      RC_ASSERT(contains(message, "frame: bad magic"));
    } else if (i == 2) {
      RC_ASSERT(contains(message, "frame: wire version"));
    } else if (i == 3 && type_of(frame) >= message_type_count) {
      RC_ASSERT(contains(message, "frame: unknown message type"));
    } else if (i >= 4 && i < 8) {
      RC_ASSERT(status.code() == Code::invalid_argument);
      RC_ASSERT(contains(message, "exceeds frame_size_bytes_max") ||
                contains(message, "bytes given"));
    } else {  // a valid other type, the checksum or the payload
      RC_ASSERT(status == Status(Code::corruption, message));
      RC_ASSERT(contains(message, "frame: checksum mismatch"));
    }
    frame[i] = static_cast<char>(frame[i] ^ flip);
  }
  RC_ASSERT(decode_frame(frame).ok());
}

// Structure-aware damage: flips, forged u32 lengths and counts, insertions, deletions,
// truncation and duplication, each a plausible bug in a peer's encoder.
void damage(std::string& bytes, Random& random) {
  static constexpr std::uint32_t interesting[] = {
      0,    1,     2,     63,       64,       65,         1023,       1024,
      1025, 65536, 65537, 16777216, 16777217, 0x7fffffff, 0x80000000, 0xffffffff};
  const auto position = [&] { return static_cast<std::size_t>(random.uniform(bytes.size() + 1)); };
  const auto operations = 1 + random.uniform(4);
  for (std::uint64_t op = 0; op < operations; ++op) {
    switch (random.uniform(6)) {
      case 0:
        if (!bytes.empty()) {
          bytes[position() % bytes.size()] = static_cast<char>(random.uniform(256));
        }
        break;
      case 1: {  // overwrite 4 bytes with a forged length or count
        if (bytes.size() < 4) break;
        const std::size_t at = random.uniform(bytes.size() - 3);
        std::uint32_t value = random.chance(0.7)
                                  ? interesting[random.uniform(std::size(interesting))]
                                  : static_cast<std::uint32_t>(random.next_u64());
        if (random.chance(0.2)) value = static_cast<std::uint32_t>(bytes.size() - at);
        for (std::size_t i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(value >> (8 * i));
        break;
      }
      case 2: {
        std::string inserted(random.uniform(8) + 1, '\0');
        for (char& c : inserted) c = static_cast<char>(random.uniform(256));
        bytes.insert(position(), inserted);
        break;
      }
      case 3: {
        const std::size_t at = position();
        bytes.erase(at, random.uniform(8) + 1);
        break;
      }
      case 4: bytes.resize(position()); break;
      default: {
        const std::size_t at = position();
        const std::size_t length = random.uniform(16) + 1;
        bytes.insert(position(), bytes.substr(at, length));
        break;
      }
    }
  }
}

RC_GTEST_PROP(CodecRobustness, GarbagePayloadWithAValidChecksumNeverCrashes, ()) {
  const std::string frame = encoded(*gen_any_envelope());
  Random random(*rc::gen::arbitrary<std::uint64_t>());
  for (int round = 0; round < garbage_payloads_per_frame; ++round) {
    std::string payload = payload_of(frame);
    damage(payload, random);
    const auto type =
        random.chance(0.8) ? type_of(frame) : static_cast<std::uint8_t>(random.uniform(6));
    check_decodes_canonically_or_fails(reframe(type, payload));
  }
  // Pure noise behind a valid header and checksum, for every type.
  for (std::uint8_t type = 0; type < message_type_count; ++type) {
    std::string noise(random.uniform(frame.size() + 1), '\0');
    for (char& c : noise) c = static_cast<char>(random.uniform(256));
    check_decodes_canonically_or_fails(reframe(type, noise));
  }
}

// The fuzz above is only worth something if damaged payloads get past the first fields:
// count the distinct places errors are reported from over a fixed sample.
TEST(CodecRobustness, GarbagePayloadsReachDeepFields) {
  std::set<std::string> places;
  int decoded = 0;
  int value_checksum_failures = 0;  // only SiblingSet::from_versions reports corruption here
  Random random(20240601);
  for (int sample = 0; sample < 200; ++sample) {
    const std::string frame = encoded(
        gen_any_envelope()(rc::Random(static_cast<std::uint64_t>(sample)), sample % 100).value());
    for (int round = 0; round < 50; ++round) {
      std::string payload = payload_of(frame);
      damage(payload, random);
      const Result<Envelope> result = decode_frame(reframe(type_of(frame), payload));
      if (result.ok()) {
        ++decoded;
        continue;
      }
      if (result.status().code() == Code::corruption) ++value_checksum_failures;
      const std::string message = result.status().message();
      places.insert(message.substr(0, message.find(':')));
    }
  }
  EXPECT_GT(places.size(), 40u);
  EXPECT_GT(value_checksum_failures, 0);
  bool reached_context = false;
  for (const std::string& place : places) {
    reached_context = reached_context || contains(place, "].context.entries[");
  }
  EXPECT_TRUE(reached_context);
  EXPECT_GT(decoded, 0);  // some damage leaves a valid message (e.g. a changed request id)
  std::printf("garbage sample: %zu error places, %d decoded, %d value checksum failures\n",
              places.size(), decoded, value_checksum_failures);
}

RC_GTEST_PROP(CodecRobustness, StoredEncodingsSurviveGarbage, ()) {
  const std::string set_bytes = encode_sibling_set(*gen_sibling_set());
  const std::string clock_bytes = encode_clock(*gen_clock());
  for (std::size_t size = 0; size < set_bytes.size(); ++size) {
    RC_ASSERT(!decode_sibling_set(std::string_view(set_bytes).substr(0, size)).ok());
  }
  for (std::size_t size = 0; size < clock_bytes.size(); ++size) {
    RC_ASSERT(!decode_clock(std::string_view(clock_bytes).substr(0, size)).ok());
  }
  RC_ASSERT(!decode_sibling_set(set_bytes + "x").ok());
  RC_ASSERT(!decode_clock(clock_bytes + "x").ok());
  Random random(*rc::gen::arbitrary<std::uint64_t>());
  for (int round = 0; round < garbage_records_per_case; ++round) {
    std::string set_damaged = set_bytes;
    damage(set_damaged, random);
    const Result<SiblingSet> set = decode_sibling_set(set_damaged);
    if (set.ok()) RC_ASSERT(encode_sibling_set(*set) == set_damaged);
    std::string clock_damaged = clock_bytes;
    damage(clock_damaged, random);
    const Result<VectorClock> clock = decode_clock(clock_damaged);
    if (clock.ok()) RC_ASSERT(encode_clock(*clock) == clock_damaged);
  }
}

}  // namespace
}  // namespace vigil::core
