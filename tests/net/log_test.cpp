// The runtime's log (net/log.h): the text line people read, and the JSON line a log
// shipper reads: one object per line, its keys in order, every string escaped by
// nlohmann::json, invalid UTF-8 replaced rather than thrown on.

#include "net/log.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace vigil::net {
namespace {

std::string logged(LogFormat format, std::string_view node, LogLevel level,
                   std::string_view event, const nlohmann::ordered_json& fields,
                   std::string_view message) {
  set_log_format(format);
  ::testing::internal::CaptureStderr();
  log_event(node, level, event, fields, message);
  std::string out = ::testing::internal::GetCapturedStderr();
  set_log_format(LogFormat::text);
  return out;
}

TEST(Log, ParsesTheFormatNames) {
  EXPECT_EQ(parse_log_format("text"), LogFormat::text);
  EXPECT_EQ(parse_log_format("json"), LogFormat::json);
  EXPECT_EQ(parse_log_format("JSON"), std::nullopt);
  EXPECT_EQ(parse_log_format(""), std::nullopt);
  EXPECT_EQ(log_format_name(LogFormat::json), "json");
  EXPECT_EQ(log_level_name(LogLevel::warning), "warning");
}

TEST(Log, TextIsTimeNodeMessage) {
  const std::string line = logged(LogFormat::text, "n1", LogLevel::info, "peer_connected",
                                  {{"peer", "n2"}}, "connected to peer n2 at 127.0.0.1:7402");
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z n1 connected to peer n2 at )"
                       R"(127\.0\.0\.1:7402\n)")))
      << line;
}

TEST(Log, JsonIsOneObjectPerLineWithItsKeysInOrder) {
  const std::string line =
      logged(LogFormat::json, "n1", LogLevel::warning, "peer_connection_lost",
             {{"peer", "n2"}, {"address", "127.0.0.1:7402"}, {"reason", "End of file"}},
             "lost connection to peer n2 at 127.0.0.1:7402: End of file");
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  const nlohmann::ordered_json object = nlohmann::ordered_json::parse(line);
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"time", "level", "node", "event", "fields",
                                            "message"}));
  EXPECT_TRUE(std::regex_match(object["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(object["level"], "warning");
  EXPECT_EQ(object["node"], "n1");
  EXPECT_EQ(object["event"], "peer_connection_lost");
  EXPECT_EQ(object["fields"].dump(),
            R"({"peer":"n2","address":"127.0.0.1:7402","reason":"End of file"})");
  EXPECT_EQ(object["message"], "lost connection to peer n2 at 127.0.0.1:7402: End of file");
}

TEST(Log, JsonEscapesWhatWouldBreakTheLine) {
  const std::string hostile = "a \"quoted\" \\ line\nwith a newline\tand \x01 control";
  const std::string line =
      logged(LogFormat::json, "n\"1", LogLevel::error, "storage_failed", {{"error", hostile}},
             hostile);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  const nlohmann::json object = nlohmann::json::parse(line);
  EXPECT_EQ(object["node"], "n\"1");
  EXPECT_EQ(object["fields"]["error"], hostile);
  EXPECT_EQ(object["message"], hostile);
}

TEST(Log, JsonReplacesInvalidUtf8InsteadOfThrowing) {
  const std::string bytes = "peer sent \xff\xfe here";
  std::string line;
  EXPECT_NO_THROW(line = logged(LogFormat::json, "n1", LogLevel::warning, "peer_frame_dropped",
                                {{"error", bytes}}, bytes));
  const nlohmann::json object = nlohmann::json::parse(line);
  EXPECT_EQ(object["message"], "peer sent \xEF\xBF\xBD\xEF\xBF\xBD here");
}

TEST(Log, NoFieldsIsAnEmptyObject) {
  const std::string line =
      logged(LogFormat::json, "n1", LogLevel::info, "stopped", nullptr, "stopped");
  EXPECT_EQ(nlohmann::json::parse(line)["fields"], nlohmann::json::object());
}

}  // namespace
}  // namespace vigil::net
