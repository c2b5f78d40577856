//! The `default` persona: keyword-driven replies (XML, long answers, repetition, citations).

use super::text::{contains_any, excerpt, words, xml_escape};
use crate::mock::sessions::SessionView;

const ACKNOWLEDGEMENTS: [&str; 4] = [
    "Thanks for your message! I understand what you're asking. Is there anything specific you'd like me to help with?",
    "Got it. Let me know if you need more detail on any part of that.",
    "That's a great question. In short: it depends on your context, but I'm happy to dig deeper.",
    "Understood. I've noted your request and can expand on it whenever you're ready.",
];

const FILLER: [&str; 6] = [
    "To give you a thorough answer, it helps to look at the question from several angles.",
    "First, consider the underlying assumptions and how they shape the expected outcome.",
    "Second, the practical constraints matter: time, budget, tooling and the people involved.",
    "Third, there are trade-offs between simplicity and completeness that deserve attention.",
    "Experience shows that small, incremental steps usually beat a single large change.",
    "Finally, measuring the result is the only reliable way to know whether it worked.",
];

/// The reply of the default persona to `message`.
pub fn reply(message: &str, session: &SessionView) -> String {
    if contains_any(message, &["xml"]) {
        xml_document(message)
    } else if contains_any(message, &["detail", "elaborate", "verbose", "maximal"]) {
        long_answer(message)
    } else if contains_any(message, &["repeat", "clarif"]) {
        repeating_paragraph(message)
    } else if contains_any(message, &["reference", "context"]) {
        citations(message)
    } else {
        let index = usize::try_from(session.count.saturating_sub(1) % 4).unwrap_or(0);
        ACKNOWLEDGEMENTS[index].to_string()
    }
}

fn xml_document(message: &str) -> String {
    let topic = xml_escape(&excerpt(message, 80));
    let items: String = (1..=5)
        .map(|i| {
            format!(
                "    <item id=\"{i}\">\n      <title>Point {i}</title>\n      \
                 <detail>Aspect {i} of the requested topic, with supporting data.</detail>\n    </item>\n"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <query>{topic}</query>\n  \
         <items>\n{items}  </items>\n  <meta generated=\"mock\" items=\"5\"/>\n</response>"
    )
}

/// About 250 words that echo the prompt's own words back.
fn long_answer(message: &str) -> String {
    let echoed = words(message);
    let topic = if echoed.is_empty() {
        "your question".to_string()
    } else {
        echoed.join(" ")
    };
    let mut out = format!(
        "Here is a detailed answer about \"{}\".",
        excerpt(&topic, 120)
    );
    let mut i = 0;
    while out.split_whitespace().count() < 250 {
        out.push(' ');
        out.push_str(FILLER[i % FILLER.len()]);
        if let Some(word) = echoed.get(i % echoed.len().max(1)) {
            out.push_str(&format!(
                " This applies directly to \"{word}\" as you described it."
            ));
        }
        i += 1;
    }
    out
}

fn repeating_paragraph(message: &str) -> String {
    let paragraph = format!(
        "To clarify: you asked \"{}\". The key point is that the answer stays the same when \
         repeated, and repeating it helps make sure nothing was missed.",
        excerpt(message, 120)
    );
    vec![paragraph; 4].join("\n\n")
}

fn citations(message: &str) -> String {
    let topic = excerpt(message, 80);
    let sources = [
        "Smith, J. (2021). Conversational Systems at Scale. Journal of Applied AI, 14(2), 101-129.",
        "Garcia, M. & Chen, L. (2022). Context Windows and Their Costs. Proc. NLP Systems, 33-48.",
        "Okafor, T. (2023). Measuring Chatbot Latency. Tech Report TR-2023-07, Example Labs.",
        "Ivanova, E. (2020). Reference Resolution in Dialogue. Computational Linguistics, 46(1), 1-30.",
    ];
    let list: Vec<String> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| format!("[{}] {s}", i + 1))
        .collect();
    format!(
        "Regarding \"{topic}\", the relevant context is well documented [1][2]. Later work \
         confirmed the findings [3], with a useful overview in [4].\n\nReferences:\n{}",
        list.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(count: u64) -> SessionView {
        SessionView {
            count,
            seed: 1,
            history: Vec::new(),
        }
    }

    #[test]
    fn keyword_replies() {
        assert!(reply("give me XML", &s(1)).starts_with("<?xml"));
        let long = reply("please elaborate on caching", &s(1));
        let n = long.split_whitespace().count();
        assert!((250..330).contains(&n), "{n}");
        assert!(long.contains("caching"));
        assert_eq!(
            reply("can you clarify", &s(1))
                .matches("To clarify")
                .count(),
            4
        );
        assert!(reply("any references?", &s(1)).contains("References:"));
    }

    #[test]
    fn acknowledgements_rotate_per_session_message() {
        assert_eq!(reply("hi", &s(1)), ACKNOWLEDGEMENTS[0]);
        assert_eq!(reply("hi", &s(2)), ACKNOWLEDGEMENTS[1]);
        assert_eq!(reply("hi", &s(5)), ACKNOWLEDGEMENTS[0]);
    }
}
