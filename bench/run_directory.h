#pragma once
// A directory that exists for one benchmark run and is removed with everything in it
// (bench store and bench repair put their SQLite files there), unless the run asks to keep
// it for inspection (a failed run of real processes keeps their logs).

#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"

namespace vigil::bench {

class RunDirectory {
 public:
  // A fresh "<prefix>-XXXXXX" directory under `parent` (the system temp directory when
  // empty). io_error naming the directory when it cannot be made.
  static core::Result<std::unique_ptr<RunDirectory>> create(const std::string& parent,
                                                            const std::string& prefix);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }
  // The destructor leaves the directory and what is in it.
  void keep() { keep_ = true; }

 private:
  explicit RunDirectory(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  bool keep_ = false;
};

}  // namespace vigil::bench
