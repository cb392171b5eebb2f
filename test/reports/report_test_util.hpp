// Helpers of the reports tests: report JSON in the runtime's own layout
// (runtime/report/text_printer.cpp), and a temporary directory per test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fsan::reports::testing {

// A frame as the runtime writes it.
inline std::string frame_json(const std::string& function, const std::string& file, int line,
                              const std::string& module = "/tmp/app", unsigned offset = 0x1234) {
  char off[32];
  std::snprintf(off, sizeof(off), "0x%x", offset);
  return "{\"pc\": \"0x55550000" + std::string(off + 2) + "\", \"module\": \"" + module + "\", \"offset\": \"" + off +
         "\", \"function\": \"" + function + "\", \"file\": \"" + file + "\", \"line\": " + std::to_string(line) +
         ", \"column\": 5}";
}

// A data race on `counter.cpp:line` between fibers 7 and 8.
inline std::string race_json(const std::string& signature, int line = 12, const std::string& test = "") {
  std::string st = "[" + frame_json("bump()", "/src/app/counter.cpp", line) + ", " +
                   frame_json("main::$_0::operator()() const", "/src/app/counter.cpp", 20) + "]";
  std::string created = "[" + frame_json("main", "/src/app/counter.cpp", 19) + "]";
  return "{\"id\": \"data_race-1\", \"kind\": \"data_race\", \"signature\": \"" + signature +
         "\", \"summary\": \"data race counter.cpp:" + std::to_string(line) + ":5 in bump()\", \"message\": \"\"" +
         (test.empty() ? "" : ", \"test\": \"" + test + "\"") +
         ",\n \"fibers\": [{\"id\": 7, \"name\": \"worker\", \"state\": \"running\", \"wait_reason\": null, "
         "\"wait_ns\": 0, \"parent\": 1, \"stack\": [], \"created_at\": " +
         created +
         "}, {\"id\": 8, \"name\": \"\", \"state\": \"running\", \"wait_reason\": null, \"wait_ns\": 0, \"parent\": 1, "
         "\"stack\": [], \"created_at\": " +
         created +
         "}],\n \"accesses\": [{\"fiber\": 7, \"op\": \"write\", \"size\": 4, \"addr\": \"0x7f0010\", "
         "\"atomic\": false, \"stack\": " +
         st +
         ", \"held\": []}, {\"fiber\": 8, \"op\": \"read\", \"size\": 4, \"addr\": \"0x7f0010\", \"atomic\": false, "
         "\"stack\": " +
         st + ", \"held\": [{\"addr\": \"0x9000\", \"mode\": \"read\", \"stack\": [" +
         frame_json("lock_it()", "/src/app/locks.cpp", 3) +
         "]}]}],\n \"location\": {\"kind\": \"heap\", \"size\": 4, \"name\": \"heap block of size 4 at 0x7f0010\", "
         "\"alloc_fiber\": 1, \"alloc_stack\": [" +
         frame_json("make_counter()", "/src/app/alloc.cpp", 8) + "]}}";
}

// A partial deadlock of fibers 3 and 4 over two mutexes, with its graph.
inline std::string deadlock_json(const std::string& signature, const std::string& test = "") {
  auto fiber = [](int id, const char* fn, int line) {
    return "{\"id\": " + std::to_string(id) + ", \"name\": \"f" + std::to_string(id) +
           "\", \"state\": \"waiting\", \"wait_reason\": \"sync.Mutex.Lock\", \"wait_ns\": 1500000000, \"parent\": 1, "
           "\"stack\": [" +
           frame_json("void fsan::Mutex::lock()", "/work/x/runtime/include/fsan/mutex.hpp", 40, "/tmp/dl", 0x10) +
           ", " + frame_json(fn, "/src/app/ab_ba.cpp", line, "/tmp/dl", 0x200) + "], \"created_at\": [" +
           frame_json("main", "/src/app/ab_ba.cpp", 30, "/tmp/dl", 0x300) + "]}";
  };
  return "{\"id\": \"partial_deadlock-1\", \"kind\": \"partial_deadlock\", \"signature\": \"" + signature +
         "\", \"summary\": \"partial deadlock ab_ba.cpp:12:5 in a_then_b()\", \"message\": \"fibers 3 and 4 wait for "
         "each other\"" +
         (test.empty() ? "" : ", \"test\": \"" + test + "\"") + ", \"fibers\": [" + fiber(3, "a_then_b()", 12) + ", " +
         fiber(4, "b_then_a()", 20) +
         "], \"accesses\": [], \"graph\": {\"nodes\": [{\"id\": \"f3\", \"type\": \"fiber\", \"label\": \"fiber 3\"}, "
         "{\"id\": \"m1\", \"type\": \"mutex\", \"label\": \"Mutex 0x1\"}], \"edges\": [{\"from\": \"f3\", \"to\": "
         "\"m1\", \"label\": \"waits on\"}], \"cycle\": [\"f3\", \"m1\", \"f3\"]}}";
}

// A whole report file.
inline std::string report_json(const std::vector<std::string>& findings, long pid = 4242,
                               const std::string& argv0 = "./app") {
  std::string out =
      "{\n  \"schema\": \"fibersan-report/1\",\n  \"tool\": {\"name\": \"fibersan\", \"version\": "
      "\"0.1.0\"},\n  \"process\": {\"pid\": " +
      std::to_string(pid) + ", \"argv\": [\"" + argv0 +
      "\", \"--flag\"], \"started\": \"2026-11-21T20:00:00Z\", \"options\": \"\"},\n  \"findings\": [";
  for (std::size_t i = 0; i < findings.size(); ++i) out += (i ? ",\n    " : "\n    ") + findings[i];
  return out + "\n  ]\n}\n";
}

// TempDir: a fresh directory, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fsan-reports-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::filesystem::path p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace fsan::reports::testing
