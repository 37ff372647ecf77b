//! Polygon packages (`problem.xml`): the `tests` testset (tests `tests/NN`
//! and answers `tests/NN.a`, time in ms, memory in bytes), the checker
//! (testlib's standard ones natively, or the package's own built with its
//! testlib.h), an interactor, groups with points and dependencies, and the
//! tagged solutions for verify mode.
//!
//! Refused, naming the element: tests whose input is not in the package
//! (generated tests: build the full package in Polygon), file input/output
//! (`input-file`/`output-file`), `run-count` above 1, a scorer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use roxmltree::{Document, Node};

use super::{
    Expected, Format, Grading, Group, Kind, PackageError, Problem, ProblemLimits, TestCase,
    TimeRule, ValidatorSpec,
};
use crate::responder::Protocol;
use crate::verdict::Verdict;

pub fn load(root: &Path) -> Result<Problem, PackageError> {
    let file = root.join("problem.xml");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| PackageError::at(&file, format!("cannot read it: {e}")))?;
    let doc = Document::parse(&text).map_err(|e| {
        let pos = e.pos();
        PackageError(format!("{}:{}:{}: {e}", file.display(), pos.row, pos.col))
    })?;
    let at = |node: Node, what: String| {
        let pos = doc.text_pos_at(node.range().start);
        PackageError(format!("{}:{}: {what}", file.display(), pos.row))
    };
    let problem = doc.root_element();
    if problem.tag_name().name() != "problem" {
        return Err(at(problem, "the root element is not <problem>".into()));
    }
    fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
        n.children().find(|c| c.has_tag_name(name))
    }
    let judging = child(problem, "judging").ok_or_else(|| at(problem, "no <judging>".into()))?;
    for attr in ["input-file", "output-file"] {
        if judging.attribute(attr).is_some_and(|v| !v.is_empty()) {
            return Err(at(
                judging,
                format!(
                    "{attr}: reading or writing files instead of stdin/stdout is not supported"
                ),
            ));
        }
    }
    if judging.attribute("run-count").is_some_and(|v| v != "1") {
        return Err(at(
            judging,
            "run-count above 1 (run twice) is not supported".into(),
        ));
    }
    let testset = judging
        .children()
        .find(|c| c.has_tag_name("testset") && c.attribute("name") == Some("tests"))
        .ok_or_else(|| at(judging, "no <testset name=\"tests\">".into()))?;
    let text_of = |n: Node, name: &str| -> Result<String, PackageError> {
        child(n, name)
            .and_then(|c| c.text())
            .map(|t| t.trim().to_string())
            .ok_or_else(|| at(n, format!("no <{name}>")))
    };
    let number = |n: Node, name: &str| -> Result<u64, PackageError> {
        let t = text_of(n, name)?;
        t.parse()
            .map_err(|_| at(n, format!("<{name}> {t:?} is not a number")))
    };
    let time_ms = number(testset, "time-limit")?;
    if !(1..=86_400_000).contains(&time_ms) {
        return Err(at(
            testset,
            format!("<time-limit> {time_ms} ms: from 1 ms to a day"),
        ));
    }
    let memory = number(testset, "memory-limit")?;
    if !(crate::limits::MIB..=1 << 50).contains(&memory) {
        return Err(at(
            testset,
            format!("<memory-limit> {memory} bytes: at least 1 MiB"),
        ));
    }
    let mut limits = ProblemLimits {
        time: Some(Duration::from_millis(time_ms)),
        time_rule: TimeRule::Legacy {
            multiplier: 2.0,
            safety_margin: 1.0,
        },
        memory,
        ..ProblemLimits::default()
    };
    limits.output = limits.output.max(64 * crate::limits::MIB);
    let count = number(testset, "test-count")? as usize;
    if count > 100_000 {
        return Err(at(
            testset,
            format!("<test-count> {count}: more than 100000 tests"),
        ));
    }
    let input_pattern = text_of(testset, "input-path-pattern")?;
    let answer_pattern = text_of(testset, "answer-path-pattern")?;
    for (what, p) in [("input", &input_pattern), ("answer", &answer_pattern)] {
        pattern_check(p).map_err(|e| at(testset, format!("the {what} path pattern: {e}")))?;
    }

    // Groups: index 0 holds the tests of no group.
    let mut groups = vec![Group {
        name: "tests".into(),
        parent: None,
        grading: Grading::Points {
            complete_group: false,
            points: None,
            dependencies: vec![],
        },
    }];
    if let Some(gs) = child(testset, "groups") {
        for g in gs.children().filter(|c| c.has_tag_name("group")) {
            let name = g
                .attribute("name")
                .ok_or_else(|| at(g, "a <group> without a name".into()))?;
            let dependencies = child(g, "dependencies")
                .map(|d| {
                    d.children()
                        .filter(|c| c.has_tag_name("dependency"))
                        .filter_map(|c| c.attribute("group").map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let points = match g.attribute("points") {
                Some(p) => Some(
                    p.parse::<f64>()
                        .map_err(|_| at(g, format!("points {p:?} is not a number")))?,
                ),
                None => None,
            };
            groups.push(Group {
                name: name.to_string(),
                parent: Some(0),
                grading: Grading::Points {
                    complete_group: g.attribute("points-policy") == Some("complete-group"),
                    points,
                    dependencies,
                },
            });
        }
    }

    let tests_el = child(testset, "tests").ok_or_else(|| at(testset, "no <tests>".into()))?;
    let list: Vec<Node> = tests_el
        .children()
        .filter(|c| c.has_tag_name("test"))
        .collect();
    if list.len() != count {
        return Err(at(
            tests_el,
            format!("<test-count> says {count} but <tests> lists {}", list.len()),
        ));
    }
    let mut tests = Vec::new();
    let mut any_points = false;
    for (i, t) in list.iter().enumerate() {
        let n = i + 1;
        let input = root.join(printf(&input_pattern, n));
        let answer = root.join(printf(&answer_pattern, n));
        if !input.is_file() {
            let how = if t.attribute("method") == Some("generated") {
                " (a generated test: download the full package, with tests built)"
            } else {
                ""
            };
            return Err(PackageError::at(
                &input,
                format!("test {n} is missing{how}"),
            ));
        }
        if !answer.is_file() {
            return Err(PackageError::at(
                &answer,
                format!("the answer of test {n} is missing"),
            ));
        }
        let group = match t.attribute("group") {
            Some(g) => groups.iter().position(|x| x.name == g).ok_or_else(|| {
                at(
                    *t,
                    format!("test {n} names the group {g:?}, which <groups> does not list"),
                )
            })?,
            None => 0,
        };
        let points = match t.attribute("points") {
            Some(p) => {
                any_points = true;
                Some(
                    p.parse::<f64>()
                        .map_err(|_| at(*t, format!("points {p:?} is not a number")))?,
                )
            }
            None => None,
        };
        tests.push(TestCase {
            name: format!("{n:02}"),
            input,
            answer,
            args: vec![],
            validator_args: vec![],
            files: None,
            group,
            sample: t.attribute("sample") == Some("true"),
            points,
        });
    }
    any_points |= groups.iter().any(|g| {
        matches!(
            g.grading,
            Grading::Points {
                points: Some(_),
                ..
            }
        )
    });

    let assets = child(problem, "assets");
    let include: Vec<PathBuf> = std::fs::read_dir(root.join("files"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "h" || e == "hpp"))
                .collect()
        })
        .unwrap_or_default();
    let program = |el: Node| -> Result<ValidatorSpec, PackageError> {
        let src = child(el, "source").ok_or_else(|| at(el, "no <source>".into()))?;
        let path = src
            .attribute("path")
            .ok_or_else(|| at(src, "a <source> without a path".into()))?;
        let rel = Path::new(path);
        if !inside_package(rel) {
            return Err(at(
                src,
                format!("the source path {path:?} leads outside the package"),
            ));
        }
        let source = root.join(path);
        if !source.is_file() {
            return Err(PackageError::at(&source, "missing"));
        }
        Ok(ValidatorSpec::Program {
            source,
            include: include.clone(),
            protocol: Protocol::Testlib,
            language: src
                .attribute("type")
                .and_then(language_of)
                .map(String::from),
        })
    };
    let mut validator = ValidatorSpec::TestlibStd("wcmp");
    let mut interactor = None;
    let mut submissions = Vec::new();
    let mut notes = Vec::new();
    if let Some(assets) = assets {
        if let Some(c) = child(assets, "checker") {
            let name = c.attribute("name").unwrap_or("");
            validator = match super::testlib_std::known(name) {
                Some(std) => ValidatorSpec::TestlibStd(std),
                None if name.starts_with("std::") => {
                    if child(c, "source").is_some() {
                        program(c)?
                    } else {
                        return Err(at(c, format!("the standard checker {name} is not one this judge knows, and no <source> is given")));
                    }
                }
                None => program(c)?,
            };
        }
        if let Some(i) = child(assets, "interactor") {
            interactor = Some(program(i)?);
        }
        if let Some(s) = child(assets, "scorer") {
            return Err(at(s, "a <scorer> is not supported".into()));
        }
        if let Some(sols) = child(assets, "solutions") {
            for s in sols.children().filter(|c| c.has_tag_name("solution")) {
                let tag = s.attribute("tag").unwrap_or("");
                let Some(src) = child(s, "source") else {
                    continue;
                };
                let Some(path) = src.attribute("path") else {
                    continue;
                };
                let rel = Path::new(path);
                if !inside_package(rel) {
                    return Err(at(
                        src,
                        format!("the solution path {path:?} leads outside the package"),
                    ));
                }
                let verdicts = match tag_verdicts(tag) {
                    Some(v) => v,
                    None => {
                        notes.push(format!("{path}: tag {tag:?} is not judged"));
                        continue;
                    }
                };
                let file = root.join(path);
                if !file.is_file() {
                    return Err(PackageError::at(
                        &file,
                        "a solution problem.xml lists is missing",
                    ));
                }
                let language = src
                    .attribute("type")
                    .and_then(language_of)
                    .map(String::from);
                if language.is_none() {
                    notes.push(format!(
                        "{path}: type {:?} is not a language this judge knows; not judged",
                        src.attribute("type").unwrap_or("")
                    ));
                    continue;
                }
                submissions.push(Expected {
                    name: path.to_string(),
                    files: vec![file],
                    language,
                    verdicts,
                    why: format!("its tag {tag}"),
                    accepted: tag == "main" || tag == "accepted",
                });
            }
        }
    }
    let name = problem
        .attribute("short-name")
        .map(String::from)
        .unwrap_or_else(|| {
            root.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        });
    Ok(Problem {
        root: root.to_path_buf(),
        name,
        format: Format::Polygon,
        kind: if any_points {
            Kind::Scoring
        } else {
            Kind::PassFail
        },
        interactive: interactor.is_some(),
        passes: 1,
        limits,
        validator,
        interactor,
        tests,
        groups,
        submissions,
        notes,
    })
}

/// A path pattern must hold one `%d` (with a width below 100) and lead
/// nowhere outside the package.
fn pattern_check(pattern: &str) -> Result<(), String> {
    let Some(i) = pattern.find('%') else {
        return Err(format!("{pattern:?} has no %d"));
    };
    let rest = &pattern[i + 1..];
    let spec: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if spec.len() > 2
        || !rest[spec.len()..].starts_with('d')
        || rest[spec.len() + 1..].contains('%')
    {
        return Err(format!(
            "{pattern:?}: only one %d, %0Nd or %Nd (N below 100) is read"
        ));
    }
    if !inside_package(Path::new(pattern)) {
        return Err(format!("{pattern:?} leads outside the package"));
    }
    Ok(())
}

/// A path the package names: relative, and never up out of it.
fn inside_package(rel: &Path) -> bool {
    !rel.is_absolute()
        && !rel
            .components()
            .any(|c| c == std::path::Component::ParentDir)
}

/// printf's `%d` / `%02d` in a path pattern.
fn printf(pattern: &str, n: usize) -> String {
    let Some(i) = pattern.find('%') else {
        return pattern.to_string();
    };
    let rest = &pattern[i + 1..];
    let Some(d) = rest.find('d') else {
        return pattern.to_string();
    };
    let spec = &rest[..d];
    let width: usize = spec.trim_start_matches('0').parse().unwrap_or(0);
    let num = if spec.starts_with('0') {
        format!("{n:0width$}")
    } else {
        format!("{n:width$}")
    };
    format!("{}{num}{}", &pattern[..i], &rest[d + 1..])
}

/// Our language for a Polygon source type (`cpp.g++17`, `python.3`, ...).
fn language_of(t: &str) -> Option<&'static str> {
    let family = t.split('.').next().unwrap_or(t);
    Some(match family {
        "c" => "c",
        "cpp" => "cpp",
        "python" if t.contains('3') => "python3",
        "java8" | "java11" | "java17" | "java21" | "java" => "java",
        "kotlin" => "kotlin",
        "rust" => "rust",
        "go" => "go",
        "js" | "javascript" => "javascript",
        _ if t.starts_with("java") => "java",
        _ if t.starts_with("kotlin") => "kotlin",
        _ => return None,
    })
}

/// The verdicts a Polygon solution tag allows.
fn tag_verdicts(tag: &str) -> Option<Vec<Verdict>> {
    use Verdict::*;
    Some(match tag {
        "main" | "accepted" => vec![AC],
        "wrong-answer" => vec![WA],
        "presentation-error" => vec![PE],
        "time-limit-exceeded" => vec![TLE, ILE],
        "memory-limit-exceeded" => vec![MLE],
        "time-limit-exceeded-or-accepted" => vec![TLE, ILE, AC],
        "time-limit-exceeded-or-memory-limit-exceeded" => vec![TLE, ILE, MLE],
        "failed" => vec![RE],
        "rejected" => vec![WA, PE, TLE, ILE, MLE, OLE, RE],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn patterns_as_printf() {
        assert_eq!(super::printf("tests/%02d", 3), "tests/03");
        assert_eq!(super::printf("tests/%02d.a", 12), "tests/12.a");
        assert_eq!(super::printf("tests/%d", 7), "tests/7");
        assert_eq!(super::printf("tests/%03d", 7), "tests/007");
    }
}
