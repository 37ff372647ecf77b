//! The submission's verdict and score from its tests', by the format's
//! rules: pass-fail (the first rejected test in order), Kattis legacy
//! graders, 2025-09 aggregation, Polygon points.

use serde::Serialize;

use super::run::TestResult;
use super::{Aggregation, Grading, Kind, Problem, ScoreMode, VerdictMode};
use crate::verdict::Verdict;

/// One group's result.
#[derive(Debug, Clone, Serialize)]
pub struct GroupResult {
    pub group: String,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
}

/// The whole submission's.
#[derive(Debug, Clone, Serialize)]
pub struct Overall {
    pub verdict: Verdict,
    /// The test that decided a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
    pub groups: Vec<GroupResult>,
}

/// A child of a group, in the package's order.
#[derive(Clone, Copy, PartialEq)]
enum Child {
    Test(usize),
    Group(usize),
}

fn children(p: &Problem, g: usize) -> Vec<Child> {
    let mut out = Vec::new();
    for (i, t) in p.tests.iter().enumerate() {
        // The child of `g` on the way down to the test.
        let mut c = t.group;
        let child = loop {
            if c == g {
                break Some(Child::Test(i));
            }
            match p.groups[c].parent {
                Some(parent) if parent == g => break Some(Child::Group(c)),
                Some(parent) => c = parent,
                None => break None,
            }
        };
        if let Some(ch) = child {
            if out.last() != Some(&ch) {
                out.push(ch);
            }
        }
    }
    out
}

/// How bad a verdict is, for `worst_error` (higher is worse).
fn badness(v: Verdict) -> u8 {
    match v {
        Verdict::AC => 0,
        Verdict::PE => 1,
        Verdict::WA => 2,
        Verdict::OLE => 3,
        Verdict::TLE | Verdict::ILE => 4,
        Verdict::MLE => 5,
        Verdict::RE => 6,
        Verdict::CE => 7,
        Verdict::JE => 8,
    }
}

pub fn grade(p: &Problem, results: &[TestResult]) -> Overall {
    let first_error = results
        .iter()
        .find(|r| r.verdict.is_some_and(|v| v != Verdict::AC));
    let pass_fail = Overall {
        verdict: first_error.and_then(|r| r.verdict).unwrap_or(Verdict::AC),
        decided_by: first_error.map(|r| r.test.clone()),
        score: None,
        max_score: None,
        groups: Vec::new(),
    };
    if p.kind == Kind::PassFail {
        return pass_fail;
    }
    let mut groups = Vec::new();
    let root = match &p.groups[0].grading {
        Grading::Legacy { .. } => {
            legacy(p, results, 0, &mut groups).expect("the root always grades")
        }
        Grading::Aggregate { .. } => {
            // Samples never count; the score is secret's.
            let secret = p.groups.iter().position(|g| g.name == "secret");
            let mut passed = Vec::new();
            let r = secret.map(|s| aggregate(p, results, s, &mut groups, &mut passed));
            GroupResult {
                group: "data".into(),
                verdict: pass_fail.verdict,
                score: r.as_ref().and_then(|r| r.score),
                max_score: r.as_ref().and_then(|r| r.max_score),
            }
        }
        Grading::Points { .. } => points(p, results, &mut groups),
    };
    let (verdict, decided_by) = match &p.groups[0].grading {
        Grading::Legacy { .. } => (
            root.verdict,
            (root.verdict != Verdict::AC)
                .then(|| pass_fail.decided_by.clone())
                .flatten(),
        ),
        _ => (pass_fail.verdict, pass_fail.decided_by.clone()),
    };
    groups.reverse();
    Overall {
        verdict,
        decided_by,
        score: root.score,
        max_score: root.max_score,
        groups,
    }
}

/// Legacy graders, depth first.
fn legacy(
    p: &Problem,
    results: &[TestResult],
    g: usize,
    out: &mut Vec<GroupResult>,
) -> Option<GroupResult> {
    let Grading::Legacy {
        verdict: mode,
        score: smode,
        ignore_sample,
        accept_if_any_accepted,
        accept_score,
        reject_score,
        range,
        ..
    } = p.groups[g].grading.clone()
    else {
        unreachable!("a legacy package grades every group the legacy way")
    };
    let mut subs: Vec<(Verdict, f64, bool)> = Vec::new(); // verdict, score, is secret
    let stops = super::run::breaks(p, g);
    for c in children(p, g) {
        // `on_reject: break`: nothing after a rejected child counts, run
        // or not (so -j and --all never change a score).
        if stops && subs.iter().any(|s| s.0 != Verdict::AC) {
            break;
        }
        match c {
            Child::Test(i) => {
                let Some(v) = results[i].verdict else {
                    continue;
                };
                let s = if v == Verdict::AC {
                    results[i].feedback.score.unwrap_or(accept_score)
                } else {
                    reject_score
                };
                subs.push((v, s, false));
            }
            Child::Group(c) => {
                // A group none of whose tests ran is not a child result.
                if let Some(r) = legacy(p, results, c, out) {
                    subs.push((
                        r.verdict,
                        r.score.unwrap_or(0.0),
                        p.groups[c].name == "secret",
                    ));
                }
            }
        }
    }
    if subs.is_empty() && g != 0 {
        return None;
    }
    if ignore_sample {
        subs.retain(|s| s.2);
    }
    let verdict = if accept_if_any_accepted && subs.iter().any(|s| s.0 == Verdict::AC) {
        Verdict::AC
    } else {
        match mode {
            VerdictMode::AlwaysAccept => Verdict::AC,
            VerdictMode::FirstError => subs
                .iter()
                .map(|s| s.0)
                .find(|&v| v != Verdict::AC)
                .unwrap_or(Verdict::AC),
            VerdictMode::WorstError => subs
                .iter()
                .map(|s| s.0)
                .max_by_key(|&v| badness(v))
                .unwrap_or(Verdict::AC),
        }
    };
    let scores = subs.iter().map(|s| s.1);
    let n = subs.len().max(1) as f64;
    let score = match smode {
        ScoreMode::Sum => scores.sum(),
        ScoreMode::Avg => scores.sum::<f64>() / n,
        ScoreMode::Min => scores.fold(f64::INFINITY, f64::min),
        ScoreMode::Max => scores.fold(f64::NEG_INFINITY, f64::max),
    };
    let score = if subs.is_empty() {
        0.0
    } else {
        score.clamp(range.0, range.1)
    };
    let r = GroupResult {
        group: p.groups[g].name.clone(),
        verdict,
        score: Some(score),
        max_score: None,
    };
    out.push(r.clone());
    Some(r)
}

/// 2025-09 aggregation of group `g`; `passed` lists the groups whose every
/// test was accepted (for `require_pass`).
fn aggregate(
    p: &Problem,
    results: &[TestResult],
    g: usize,
    out: &mut Vec<GroupResult>,
    passed: &mut Vec<String>,
) -> GroupResult {
    let Grading::Aggregate {
        max_score,
        aggregation,
        require_pass,
    } = p.groups[g].grading.clone()
    else {
        unreachable!("a 2025-09 package aggregates every group")
    };
    let kids = children(p, g);
    let tests = kids
        .iter()
        .filter(|c| matches!(c, Child::Test(_)))
        .count()
        .max(1) as f64;
    let test_max = match aggregation {
        Aggregation::Sum => max_score.map(|m| m / tests),
        _ => max_score,
    };
    let sample_ok = results
        .iter()
        .zip(&p.tests)
        .filter(|(_, t)| t.sample)
        .all(|(r, _)| r.verdict == Some(Verdict::AC));
    let required_ok = require_pass.iter().all(|r| {
        if r == "sample" {
            sample_ok
        } else {
            passed
                .iter()
                .any(|g| g == r || g.ends_with(&format!("/{r}")))
        }
    });
    let mut all_ac = true;
    let mut scores = Vec::new();
    for c in kids {
        match c {
            Child::Test(i) => {
                let ok = results[i].verdict == Some(Verdict::AC);
                all_ac &= ok;
                let fb = &results[i].feedback;
                let s = if !ok {
                    0.0
                } else if let (Some(m), Some(max)) = (fb.score_multiplier, test_max) {
                    m * max
                } else {
                    fb.score.or(test_max).unwrap_or(0.0)
                };
                scores.push(s);
            }
            Child::Group(c) => {
                let r = aggregate(p, results, c, out, passed);
                all_ac &= r.verdict == Verdict::AC;
                scores.push(r.score.unwrap_or(0.0));
            }
        }
    }
    if all_ac {
        passed.push(p.groups[g].name.clone());
    }
    let score = if !required_ok {
        0.0
    } else {
        match aggregation {
            Aggregation::PassFail => {
                if all_ac {
                    max_score.unwrap_or(0.0)
                } else {
                    0.0
                }
            }
            Aggregation::Sum => scores.iter().sum(),
            Aggregation::Min => scores
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .min(max_score.unwrap_or(f64::INFINITY)),
        }
    };
    let score = if score.is_finite() { score } else { 0.0 };
    let r = GroupResult {
        group: p.groups[g].name.clone(),
        verdict: if all_ac && required_ok {
            Verdict::AC
        } else {
            first_rejection(p, results, g)
        },
        score: Some(score),
        max_score,
    };
    out.push(r.clone());
    r
}

fn first_rejection(p: &Problem, results: &[TestResult], g: usize) -> Verdict {
    results
        .iter()
        .zip(&p.tests)
        .filter(|(_, t)| super::run::in_group(p, t.group, g))
        .filter_map(|(r, _)| r.verdict)
        .find(|&v| v != Verdict::AC)
        .unwrap_or(Verdict::WA)
}

/// Polygon: each test's points, or a complete group's, once the groups it
/// depends on passed.
fn points(p: &Problem, results: &[TestResult], out: &mut Vec<GroupResult>) -> GroupResult {
    let mut total = 0.0;
    let mut max = 0.0;
    let all_ac = |g: usize| {
        results
            .iter()
            .zip(&p.tests)
            .filter(|(_, t)| t.group == g)
            .all(|(r, _)| r.verdict == Some(Verdict::AC))
    };
    for (g, group) in p.groups.iter().enumerate() {
        let Grading::Points {
            complete_group,
            points,
            dependencies,
        } = &group.grading
        else {
            continue;
        };
        let tests: Vec<usize> = (0..p.tests.len())
            .filter(|&i| p.tests[i].group == g)
            .collect();
        let test_points: f64 = tests
            .iter()
            .map(|&i| p.tests[i].points.unwrap_or(0.0))
            .sum();
        let gmax = points.unwrap_or(test_points);
        let deps_ok = dependencies.iter().all(|d| {
            p.groups
                .iter()
                .position(|x| &x.name == d)
                .is_some_and(all_ac)
        });
        let score = if !deps_ok {
            0.0
        } else if *complete_group {
            if all_ac(g) {
                gmax
            } else {
                0.0
            }
        } else {
            tests
                .iter()
                .filter(|&&i| results[i].verdict == Some(Verdict::AC))
                .map(|&i| {
                    results[i]
                        .feedback
                        .score
                        .unwrap_or(p.tests[i].points.unwrap_or(0.0))
                })
                .sum()
        };
        total += score;
        max += gmax;
        if g != 0 {
            out.push(GroupResult {
                group: group.name.clone(),
                verdict: if all_ac(g) {
                    Verdict::AC
                } else {
                    first_rejection(p, results, g)
                },
                score: Some(score),
                max_score: Some(gmax),
            });
        }
    }
    GroupResult {
        group: "tests".into(),
        verdict: results
            .iter()
            .filter_map(|r| r.verdict)
            .find(|&v| v != Verdict::AC)
            .unwrap_or(Verdict::AC),
        score: Some(total),
        max_score: Some(max),
    }
}
