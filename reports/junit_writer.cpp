// JUnit XML writer (junit_writer.hpp). Layout follows the de-facto schema
// CI systems read (Jenkins, GitLab, GitHub test reporters): <testsuites>
// with totals, <testsuite name tests failures errors skipped>, <testcase
// classname name>, <failure message type>body</failure>, <system-out>.
// Suites and cases keep input order (first seen).
#include "junit_writer.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include "text_report.hpp"

namespace fsan::reports {
namespace {

// One testcase: the findings (indices into Report::findings) reported in
// it, each once, with the process of its first occurrence there.
struct CaseFindings {
  std::string test;                                           // "" = the binary itself (findings outside any FSAN_TEST)
  std::vector<std::pair<std::size_t, std::size_t>> findings;  // (finding, process)
};

struct Suite {
  std::string binary;
  std::vector<CaseFindings> cases;
  bool has_clean_process = false;

  CaseFindings& case_for(const std::string& test) {
    for (CaseFindings& c : cases)
      if (c.test == test) return c;
    return cases.emplace_back(CaseFindings{test, {}});
  }
};

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// decode_utf8: the code point at s[i] and its length; 0xFFFD, 1 for a byte
// that does not start a valid (shortest-form, non-surrogate) sequence.
std::pair<char32_t, std::size_t> decode_utf8(const std::string& s, std::size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return {c, 1};
  std::size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size()) return {0xfffd, 1};
  char32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xc0) != 0x80) return {0xfffd, 1};
    cp = (cp << 6) | (d & 0x3f);
  }
  char32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {0xfffd, 1};
  return {cp, len};
}

std::string testcase_classname(const std::string& binary, const std::string& test) {
  if (test.empty()) return binary;
  std::size_t dot = test.find('.');
  return dot == std::string::npos ? binary : binary + "." + test.substr(0, dot);
}

std::string testcase_name(const std::string& binary, const std::string& test) {
  if (test.empty()) return binary;
  std::size_t dot = test.find('.');
  return dot == std::string::npos ? test : test.substr(dot + 1);
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto [cp, len] = decode_utf8(s, i);
    i += len;
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 Char: tab, newline, carriage return, and from U+0020 on,
        // without U+FFFE and U+FFFF.
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe || cp == 0xffff) cp = 0xfffd;
        append_utf8(out, cp);
    }
  }
  return out;
}

std::string binary_name(const ProcessInfo& p) {
  std::string path = !p.argv.empty() && !p.argv[0].empty() ? p.argv[0] : p.file;
  std::size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return base.empty() ? "unknown" : base;
}

std::string render_junit(const Report& report) {
  // Group: suites by binary, cases by FSAN_TEST, in the order first seen.
  std::vector<Suite> suites;
  std::map<std::string, std::size_t> suite_of_binary;
  auto suite_for = [&](const std::string& binary) -> Suite& {
    auto [it, inserted] = suite_of_binary.try_emplace(binary, suites.size());
    if (inserted) suites.push_back(Suite{binary, {}, false});
    return suites[it->second];
  };
  std::vector<bool> process_has_findings(report.processes.size(), false);
  for (std::size_t i = 0; i < report.findings.size(); ++i)
    for (const Occurrence& o : report.findings[i].occurrences)
      if (o.process < process_has_findings.size()) process_has_findings[o.process] = true;
  for (std::size_t p = 0; p < report.processes.size(); ++p) {
    Suite& s = suite_for(binary_name(report.processes[p]));
    if (!process_has_findings[p]) s.has_clean_process = true;
  }
  for (std::size_t i = 0; i < report.findings.size(); ++i) {
    for (const Occurrence& o : report.findings[i].occurrences) {
      if (o.process >= report.processes.size()) continue;
      Suite& s = suite_for(binary_name(report.processes[o.process]));
      CaseFindings& c = s.case_for(o.test);
      bool seen = std::any_of(c.findings.begin(), c.findings.end(), [&](const auto& fp) { return fp.first == i; });
      if (!seen) c.findings.emplace_back(i, o.process);
    }
  }
  for (Suite& s : suites) {
    if (!s.has_clean_process) continue;
    s.case_for("");  // the binary ran clean at least once: a passing case unless it has findings
  }

  std::ostringstream body;
  int total_tests = 0, total_failures = 0;
  for (const Suite& s : suites) {
    int failures = 0;
    std::ostringstream cases;
    for (const CaseFindings& c : s.cases) {
      std::vector<std::pair<std::size_t, std::size_t>> failing, suppressed;
      for (const auto& fp : c.findings) (report.findings[fp.first].suppressed ? suppressed : failing).push_back(fp);
      cases << "    <testcase classname=\"" << xml_escape(testcase_classname(s.binary, c.test)) << "\" name=\""
            << xml_escape(testcase_name(s.binary, c.test)) << "\" time=\"0\"";
      if (failing.empty() && suppressed.empty()) {
        cases << "/>\n";
        continue;
      }
      cases << ">\n";
      if (!failing.empty()) {
        ++failures;
        const Finding& first = report.findings[failing.front().first].finding;
        std::string message = first.summary.empty() ? first.message : first.summary;
        if (failing.size() > 1) message = std::to_string(failing.size()) + " findings, first: " + message;
        std::vector<std::string> kinds;
        std::string text;
        for (const auto& [fi, proc] : failing) {
          const Finding& f = report.findings[fi].finding;
          std::string k = to_string(f.kind);
          if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
          text += format_finding_text(f, report.processes[proc].pid);
        }
        std::string type;
        for (const std::string& k : kinds) type += (type.empty() ? "" : ",") + k;
        cases << "      <failure message=\"" << xml_escape(message) << "\" type=\"" << xml_escape(type) << "\">"
              << xml_escape(text) << "</failure>\n";
      }
      if (!suppressed.empty()) {
        cases << "      <system-out>";
        for (const auto& [fi, proc] : suppressed) {
          const MergedFinding& m = report.findings[fi];
          cases << xml_escape("suppressed " + std::string(to_string(m.finding.kind)) + " (" + m.suppressed_by +
                              "): " + m.finding.summary + "\n");
        }
        cases << "</system-out>\n";
      }
      cases << "    </testcase>\n";
    }
    int tests = static_cast<int>(s.cases.size());
    total_tests += tests;
    total_failures += failures;
    body << "  <testsuite name=\"" << xml_escape(s.binary) << "\" tests=\"" << tests << "\" failures=\"" << failures
         << "\" errors=\"0\" skipped=\"0\" time=\"0\">\n"
         << cases.str() << "  </testsuite>\n";
  }
  // Reports that could not be read: one erroring case, so CI shows that
  // the gate saw less than everything.
  int total_errors = 0;
  if (!report.errors.empty()) {
    total_errors = 1;
    ++total_tests;
    std::string lines;
    for (const std::string& e : report.errors) lines += e + "\n";
    std::string message =
        std::to_string(report.errors.size()) +
        (report.errors.size() == 1 ? " input could not be used: " : " inputs could not be used, first: ") +
        report.errors.front();
    body << "  <testsuite name=\"fsan-report\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0\">\n"
         << "    <testcase classname=\"fsan-report\" name=\"inputs\" time=\"0\">\n"
         << "      <error message=\"" << xml_escape(message) << "\" type=\"input\">" << xml_escape(lines)
         << "</error>\n"
         << "    </testcase>\n  </testsuite>\n";
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"fibersan\" tests=\"" << total_tests << "\" failures=\"" << total_failures << "\" errors=\""
      << total_errors << "\">\n"
      << body.str() << "</testsuites>\n";
  return out.str();
}

}  // namespace fsan::reports
