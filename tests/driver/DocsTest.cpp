// The project's documentation stands on its own: every file a page links to or names as
// `SOMETHING.md` exists in the repository, and every in-page link (#anchor) of the language
// reference leads to one of its headings. (docs/language.md once cited a LANGUAGE.md that
// the repository does not hold.)
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "RunNnc.h"

namespace nnc::test {
namespace {

namespace fs = std::filesystem;

std::string readDocPage(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// GitHub's heading anchors: lower case, punctuation dropped, spaces become '-'.
std::string headingAnchor(const std::string& heading) {
  std::string out;
  for (char c : heading) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || c == '-') out += char(std::tolower(u));
    else if (c == ' ') out += '-';
  }
  return out;
}

TEST(Docs, LinkedAndNamedFilesExist) {
  const fs::path root = sourcePath("");
  for (const char* page : {"README.md", "docs/language.md", "docs/errors.md", "docs/fuzzing.md"}) {
    SCOPED_TRACE(page);
    const fs::path file = root / page;
    const std::string text = readDocPage(file);
    ASSERT_FALSE(text.empty());
    std::regex link(R"(\]\(([^)#:\s]+)(#[^)]*)?\))");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), link); it != std::sregex_iterator(); ++it)
      EXPECT_TRUE(fs::exists(file.parent_path() / (*it)[1].str())) << "link to " << (*it)[1];
    // A file named in code quotes, as `LANGUAGE.md` was: relative to the page or to the root.
    std::regex named(R"(`([A-Za-z0-9_./-]+\.md)`)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), named); it != std::sregex_iterator(); ++it) {
      const std::string name = (*it)[1];
      EXPECT_TRUE(fs::exists(file.parent_path() / name) || fs::exists(root / name)) << "names " << name;
    }
  }
}

TEST(Docs, LanguageReferenceAnchorsLeadToHeadings) {
  const std::string text = readDocPage(sourcePath("docs/language.md"));
  std::set<std::string> anchors;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("#", 0) == 0) anchors.insert(headingAnchor(line.substr(line.find_first_not_of("# "))));
  std::regex link(R"(\]\(#([^)]+)\))");
  int links = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), link); it != std::sregex_iterator(); ++it, ++links)
    EXPECT_TRUE(anchors.count((*it)[1])) << "#" << (*it)[1] << " is no heading";
  EXPECT_GT(links, 10);
}

}  // namespace
}  // namespace nnc::test
