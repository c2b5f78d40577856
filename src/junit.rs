//! JUnit XML for CI: one testcase per threshold of a `krawall run` session.

use actors::domain::thresholds::ThresholdResult;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A `<testsuite>` named after the session with a `<testcase>` per threshold; a failed one
/// carries a `<failure>` with the actual value.
pub fn junit_report(session_id: &str, verdicts: &[ThresholdResult]) -> String {
    let failures = verdicts.iter().filter(|t| !t.passed).count();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"krawall thresholds\" tests=\"{}\" failures=\"{failures}\" id=\"{}\">\n",
        verdicts.len(),
        escape(session_id)
    );
    for t in verdicts {
        let name = escape(&format!("{} {}", t.metric, t.condition));
        xml.push_str(&format!(
            "    <testcase classname=\"krawall.thresholds\" name=\"{name}\">"
        ));
        if !t.passed {
            let message = escape(&format!(
                "{} was {}, expected {}",
                t.metric, t.actual, t.condition
            ));
            xml.push_str(&format!("<failure message=\"{message}\"/>"));
        }
        xml.push_str("</testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_testcase_per_threshold_and_escaped() {
        let verdicts = vec![
            ThresholdResult {
                metric: "latency_p95_ms".into(),
                condition: "<2000".into(),
                actual: 150.0,
                passed: true,
            },
            ThresholdResult {
                metric: "error_rate".into(),
                condition: "<0.01".into(),
                actual: 0.5,
                passed: false,
            },
        ];
        let xml = junit_report("s1", &verdicts);
        assert!(xml.contains("tests=\"2\" failures=\"1\""));
        assert!(xml.contains("name=\"latency_p95_ms &lt;2000\"></testcase>"));
        assert!(xml.contains("<failure message=\"error_rate was 0.5, expected &lt;0.01\"/>"));
    }
}
