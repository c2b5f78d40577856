//! The 15 built-in scenario templates (upstream's gallery of 12 plus the seed plan's Concurrency
//! Test, Timeout Test and Error Recovery), kept as canonical JSON.
//!
//! Unlike upstream, loops use `config.steps`, custom variables travel with the template, every
//! variable used exists (`{{index}}` is a built-in here) and the branching condition is valid.

use serde::Serialize;
use serde_json::Value;

use super::scenario::ScenarioSpec;
use super::scenario_input::parse_scenario;

/// A built-in template: its id plus a canonical scenario, served flat (`{id, name, …}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioTemplate {
    pub id: String,
    #[serde(flatten)]
    pub scenario: ScenarioSpec,
}

/// The templates in gallery order: `{id, …scenario}` per entry.
const TEMPLATES: &str = r#"[
  {"id": "stress-test-basic", "name": "Basic Stress Test", "category": "STRESS_TEST",
   "description": "Greets, asks for ever more detail ten times, then asks for a summary of everything.",
   "repetitions": 5, "concurrency": 1, "delayBetweenMs": 1000, "verbosityLevel": "verbose",
   "messageTemplates": {
     "greeting": "Hello! I'd like to learn about machine learning.",
     "repetitive_question": "Can you explain that again in more detail? Please be thorough and cover every aspect."},
   "flowConfig": [
    {"type": "message", "config": {"content": "{{greeting}}"}},
    {"type": "loop", "config": {"iterations": 10, "steps": [
      {"type": "message", "config": {"content": "{{repetitive_question}}"}}
    ]}},
    {"type": "message", "config": {"content": "Now summarize everything we discussed so far."}}
   ]},
  {"id": "stress-test-xml", "name": "XML Stress Test", "category": "STRESS_TEST",
   "description": "Requests a large XML analysis, then keeps asking to expand it in XML.",
   "repetitions": 3, "concurrency": 2, "delayBetweenMs": 2000, "verbosityLevel": "verbose",
   "messageTemplates": {
     "xml_followup": "Expand every element of that XML document with more nested detail, examples and references. Reply in XML only.",
     "xml_request": "Provide a comprehensive analysis of the major machine learning algorithms as a well-formed XML document, with an element per algorithm, its complexity, use cases, strengths and weaknesses."},
   "flowConfig": [
    {"type": "message", "config": {"content": "{{xml_request}}"}},
    {"type": "loop", "config": {"iterations": 8, "steps": [
      {"type": "message", "config": {"content": "{{xml_followup}}"}}
    ]}}
   ]},
  {"id": "edge-case-empty", "name": "Empty and Minimal Inputs", "category": "EDGE_CASE",
   "description": "Sends empty, blank, single-character and symbol-only messages.",
   "repetitions": 3, "concurrency": 1, "delayBetweenMs": 500, "verbosityLevel": "normal",
   "flowConfig": [
    {"type": "message", "config": {"content": ""}},
    {"type": "message", "config": {"content": " "}},
    {"type": "message", "config": {"content": "?"}},
    {"type": "message", "config": {"content": "a"}},
    {"type": "message", "config": {"content": "1"}},
    {"type": "message", "config": {"content": "!@#$%^&*()"}}
   ]},
  {"id": "edge-case-unicode", "name": "Unicode Edge Cases", "category": "EDGE_CASE",
   "description": "Emoji, CJK, right-to-left scripts and mathematical symbols.",
   "repetitions": 2, "concurrency": 1, "delayBetweenMs": 1000, "verbosityLevel": "normal",
   "flowConfig": [
    {"type": "message", "config": {"content": "Hello! 👋😀🎉 How are you today? 🌍"}},
    {"type": "message", "config": {"content": "你好，请用中文介绍一下你自己。"}},
    {"type": "message", "config": {"content": "مرحبا، هل يمكنك مساعدتي باللغة العربية؟"}},
    {"type": "message", "config": {"content": "שלום, האם אתה מדבר עברית?"}},
    {"type": "message", "config": {"content": "🔥💯🚀✨🎯🧠💡🤖👾🌈🍕🎸"}},
    {"type": "message", "config": {"content": "∀x∈ℝ: ∑ᵢ₌₁ⁿ xᵢ² ≥ 0, ∫₀^∞ e^(−x²) dx = √π/2, ≠ ≈ ∞ ∂ ∇"}}
   ]},
  {"id": "conversation-context", "name": "Conversation Context", "category": "CONTEXT",
   "description": "A ten-turn trip-planning conversation that depends on earlier answers.",
   "repetitions": 2, "concurrency": 1, "delayBetweenMs": 1500, "verbosityLevel": "normal",
   "flowConfig": [
    {"type": "message", "config": {"content": "I'm planning a two-week trip to Japan next year. Can you help me plan it?"}},
    {"type": "message", "config": {"content": "How many days should I spend in Tokyo, Kyoto and Osaka?"}},
    {"type": "message", "config": {"content": "What are the must-see sights in each of those cities?"}},
    {"type": "message", "config": {"content": "What budget should I plan for, per day, in each city?"}},
    {"type": "message", "config": {"content": "Which season is best for the trip, and why?"}},
    {"type": "message", "config": {"content": "Do I need a visa as a European citizen, and for how long can I stay?"}},
    {"type": "message", "config": {"content": "Which customs and etiquette should I know about?"}},
    {"type": "message", "config": {"content": "How should I travel between the cities, and is a rail pass worth it?"}},
    {"type": "message", "config": {"content": "Which regional dishes should I try in each city?"}},
    {"type": "message", "config": {"content": "Please summarize everything we discussed into a complete day-by-day plan."}}
   ]},
  {"id": "rapid-fire", "name": "Rapid Fire", "category": "PERFORMANCE",
   "description": "Twenty quick questions in a row with little delay, three conversations at once.",
   "repetitions": 3, "concurrency": 3, "delayBetweenMs": 100, "verbosityLevel": "minimal",
   "flowConfig": [
    {"type": "loop", "config": {"iterations": 20, "steps": [
      {"type": "message", "config": {"content": "Quick question {{index}}: What's {{index}} + {{index}}?"}}
    ]}}
   ]},
  {"id": "branching-conversation", "name": "Branching Conversation", "category": "LOGIC",
   "description": "Branches on whether the bot says it supports multiple languages.",
   "repetitions": 2, "concurrency": 1, "delayBetweenMs": 1000, "verbosityLevel": "normal",
   "flowConfig": [
    {"type": "message", "config": {"content": "Do you support multiple languages?"}},
    {"type": "conditional", "config": {"condition": "contains:yes",
     "thenSteps": [
      {"type": "message", "config": {"content": "Great! Can you answer my next question in Spanish: what is the weather usually like in Madrid?"}},
      {"type": "message", "config": {"content": "And now in French: what are the best museums in Paris?"}}
     ],
     "elseSteps": [
      {"type": "message", "config": {"content": "What languages do you support?"}}
    ]}},
    {"type": "message", "config": {"content": "Thank you for your help!"}}
   ]},
  {"id": "long-form-output", "name": "Long-Form Output", "category": "KRAWALL",
   "description": "Asks for three very long essays.",
   "repetitions": 2, "concurrency": 1, "delayBetweenMs": 5000, "verbosityLevel": "verbose",
   "flowConfig": [
    {"type": "message", "config": {"content": "Write a 2000-word essay on the history of artificial intelligence, from the Dartmouth workshop to today."}},
    {"type": "message", "config": {"content": "Write a 2000-word essay on the ethics of artificial intelligence, covering bias, privacy, accountability and safety."}},
    {"type": "message", "config": {"content": "Write a 1500-word technical deep-dive into the transformer architecture: attention, positional encoding, training and inference."}}
   ]},
  {"id": "ecommerce-token-drain", "name": "E-commerce Token Drain", "category": "ATTACK_SURFACE",
   "description": "A shopper who wants every product detail in every format.",
   "repetitions": 3, "concurrency": 1, "delayBetweenMs": 2000, "verbosityLevel": "extreme",
   "flowConfig": [
    {"type": "message", "config": {"content": "Hi! What product categories do you have?"}},
    {"type": "loop", "config": {"iterations": 5, "steps": [
      {"type": "message", "config": {"content": "Can you list the full technical specifications of every product in that category?"}},
      {"type": "message", "config": {"content": "Could you give me the same list as XML? I need it for my accessibility tool."}},
      {"type": "message", "config": {"content": "Please compare the top 2 products as a detailed table."}},
      {"type": "message", "config": {"content": "Show me 3 customer reviews for each product."}},
      {"type": "message", "config": {"content": "Summarize all of this as a complete buying report."}}
    ]}}
   ]},
  {"id": "support-escalation-flood", "name": "Support Escalation Flood", "category": "ATTACK_SURFACE",
   "description": "A customer whose order problem keeps escalating.",
   "repetitions": 2, "concurrency": 1, "delayBetweenMs": 1500, "verbosityLevel": "verbose",
   "flowConfig": [
    {"type": "message", "config": {"content": "Hi, I have a problem with my order #12345. It hasn't arrived yet."}},
    {"type": "message", "config": {"content": "Can you show me the full details of that order, including every item and the shipping history?"}},
    {"type": "message", "config": {"content": "What is your complete return policy? Please include every condition and exception."}},
    {"type": "message", "config": {"content": "I'd like to escalate this to a supervisor. Please explain the escalation process in detail."}},
    {"type": "loop", "config": {"iterations": 10, "steps": [
      {"type": "message", "config": {"content": "Can you also check order #{{messageIndex}} for me?"}},
      {"type": "message", "config": {"content": "What's the status of my escalation?"}}
    ]}}
   ]},
  {"id": "context-window-stuffer", "name": "Context Window Stuffer", "category": "ATTACK_SURFACE",
   "description": "Builds a huge context, then makes the bot repeat and expand it.",
   "repetitions": 2, "concurrency": 1, "delayBetweenMs": 3000, "verbosityLevel": "extreme",
   "flowConfig": [
    {"type": "message", "config": {"content": "Tell me the complete history of your company, from its founding to today."}},
    {"type": "message", "config": {"content": "Now describe every product you offer, in full detail."}},
    {"type": "message", "config": {"content": "Please repeat your first answer word for word."}},
    {"type": "message", "config": {"content": "Combine all your answers so far into one document with a table of contents."}},
    {"type": "message", "config": {"content": "Translate that whole document into formal academic English."}},
    {"type": "message", "config": {"content": "Add APA citations for every claim in the document."}},
    {"type": "loop", "config": {"iterations": 8, "steps": [
      {"type": "message", "config": {"content": "Expand section {{messageIndex}} of the document with much more detail."}}
    ]}}
   ]},
  {"id": "polite-persistent-requester", "name": "Polite Persistent Requester", "category": "ATTACK_SURFACE",
   "description": "A polite student whose homework keeps growing.",
   "repetitions": 3, "concurrency": 1, "delayBetweenMs": 2000, "verbosityLevel": "verbose",
   "flowConfig": [
    {"type": "message", "config": {"content": "Hi! I'm working on a school project about AI. Could you explain the basics?"}},
    {"type": "message", "config": {"content": "Thank you! Could you also explain how neural networks work?"}},
    {"type": "message", "config": {"content": "That's so helpful. Could you give me 10 real-world examples of AI?"}},
    {"type": "message", "config": {"content": "Could you put those examples in a table, please?"}},
    {"type": "message", "config": {"content": "Could you add a column with the estimated cost of each one?"}},
    {"type": "message", "config": {"content": "My teacher wants citations. Could you add sources for everything?"}},
    {"type": "message", "config": {"content": "Lastly, could you turn all of this into a 500-word essay?"}},
    {"type": "loop", "config": {"iterations": 5, "steps": [
      {"type": "message", "config": {"content": "Sorry, one more thing: could you revise the essay to include reinforcement learning?"}}
    ]}}
   ]},
  {"id": "concurrency-test", "name": "Concurrency Test", "category": "PERFORMANCE",
   "description": "Parallel message flooding: 50 users hold short conversations back to back for two minutes.",
   "repetitions": 1, "concurrency": 1, "delayBetweenMs": 0, "verbosityLevel": "minimal",
   "load": {"executor": "constant-users", "users": 50, "duration": "2m",
     "abortOn": {"errorRate": 0.5, "warmup": "10s", "minExchanges": 50}},
   "flowConfig": [
    {"type": "message", "config": {"content": "Hi, I have a quick question about my order #{{repetitionIndex}}."}},
    {"type": "message", "config": {"content": "Can you check its delivery status?"}},
    {"type": "message", "config": {"content": "Thanks. And what is your return policy?"}}
   ]},
  {"id": "timeout-test", "name": "Timeout Test", "category": "PERFORMANCE",
   "description": "Delayed responses: long answers under a tight 5 s timeout, plus 10% injected timeouts, retried with backoff.",
   "repetitions": 3, "concurrency": 2, "delayBetweenMs": 500, "verbosityLevel": "extreme",
   "messageTimeoutMs": 5000,
   "faults": {"timeoutRate": 0.1, "seed": 1},
   "errorHandling": {"onError": "retry", "retryConfig": {"maxRetries": 2, "delayMs": 500, "backoffMultiplier": 2, "maxDelayMs": 5000}},
   "flowConfig": [
    {"type": "message", "config": {"content": "Write a detailed, step-by-step guide to building a web application from scratch."}},
    {"type": "message", "config": {"content": "Now add complete code samples for every step."}},
    {"type": "message", "config": {"content": "Add a section on testing, with full test code for each component."}}
   ]},
  {"id": "error-recovery", "name": "Error Recovery", "category": "RESILIENCE",
   "description": "Resilience: 10% HTTP 500s, 5% 429s and 5% dropped connections are injected; the conversation retries and must keep its context.",
   "repetitions": 3, "concurrency": 1, "delayBetweenMs": 500, "verbosityLevel": "normal",
   "faults": {"serverErrorRate": 0.1, "rateLimitRate": 0.05, "dropRate": 0.05, "seed": 7},
   "errorHandling": {"onError": "retry", "retryConfig": {"maxRetries": 3, "delayMs": 1000, "backoffMultiplier": 2, "maxDelayMs": 10000}},
   "flowConfig": [
    {"type": "message", "config": {"content": "My name is Alex and I need help setting up my new router."}},
    {"type": "message", "config": {"content": "The status light is blinking orange. What does that mean?"}},
    {"type": "message", "config": {"content": "I tried restarting it. What should I do next?"}},
    {"type": "message", "config": {"content": "By the way, what was my name and what problem did I describe?"}}
   ]}
]"#;

/// The raw template bodies with their ids, in gallery order.
pub fn raw_templates() -> Vec<(String, Value)> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(TEMPLATES) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|t| Some((t.get("id")?.as_str()?.to_string(), t)))
        .collect()
}

/// Every built-in template, parsed into the canonical schema (a template that failed to parse
/// would be left out; the unit tests below guarantee none does).
pub fn scenario_templates() -> Vec<ScenarioTemplate> {
    raw_templates()
        .into_iter()
        .filter_map(|(id, raw)| {
            parse_scenario(&raw)
                .ok()
                .map(|scenario| ScenarioTemplate { id, scenario })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scenario::max_messages_per_repetition;

    #[test]
    fn all_fifteen_templates_parse_with_their_sizes() {
        let expected = [
            ("stress-test-basic", 12, 5, 1, 1000),
            ("stress-test-xml", 9, 3, 2, 2000),
            ("edge-case-empty", 6, 3, 1, 500),
            ("edge-case-unicode", 6, 2, 1, 1000),
            ("conversation-context", 10, 2, 1, 1500),
            ("rapid-fire", 20, 3, 3, 100),
            ("branching-conversation", 4, 2, 1, 1000),
            ("long-form-output", 3, 2, 1, 5000),
            ("ecommerce-token-drain", 26, 3, 1, 2000),
            ("support-escalation-flood", 24, 2, 1, 1500),
            ("context-window-stuffer", 14, 2, 1, 3000),
            ("polite-persistent-requester", 12, 3, 1, 2000),
            ("concurrency-test", 3, 1, 1, 0),
            ("timeout-test", 3, 3, 2, 500),
            ("error-recovery", 4, 3, 1, 500),
        ];
        let raw = raw_templates();
        assert_eq!(raw.len(), 15);
        for ((id, body), (want_id, msgs, r, c, d)) in raw.iter().zip(expected) {
            let spec = parse_scenario(body).unwrap_or_else(|e| panic!("{id}: {e:?}"));
            assert_eq!(id, want_id);
            assert_eq!(max_messages_per_repetition(&spec.flow_config), msgs, "{id}");
            assert_eq!(
                (spec.repetitions, spec.concurrency, spec.delay_between_ms),
                (r, c, d),
                "{id}"
            );
        }
        let summary: Vec<String> = scenario_templates()
            .iter()
            .map(|t| format!("{}/{:?}", t.scenario.category, t.scenario.verbosity_level))
            .collect();
        let want = [
            "STRESS_TEST/Verbose",
            "STRESS_TEST/Verbose",
            "EDGE_CASE/Normal",
            "EDGE_CASE/Normal",
            "CONTEXT/Normal",
            "PERFORMANCE/Minimal",
            "LOGIC/Normal",
            "KRAWALL/Verbose",
            "ATTACK_SURFACE/Extreme",
            "ATTACK_SURFACE/Verbose",
            "ATTACK_SURFACE/Extreme",
            "ATTACK_SURFACE/Verbose",
            "PERFORMANCE/Minimal",
            "PERFORMANCE/Extreme",
            "RESILIENCE/Normal",
        ];
        assert_eq!(summary, want);
    }

    #[test]
    fn every_variable_used_is_defined() {
        use crate::domain::template::BUILTIN_VARIABLES;
        let re = regex::Regex::new(r"\{\{\s*(\w+)\s*\}\}").unwrap();
        for t in scenario_templates() {
            let text = serde_json::to_string(&t.scenario.flow_config).unwrap();
            crate::domain::template::check_syntax(&text).unwrap();
            for cap in re.captures_iter(&text) {
                let name = &cap[1];
                let known = BUILTIN_VARIABLES.contains(&name)
                    || t.scenario.message_templates.contains_key(name);
                assert!(known, "{}: {{{{{name}}}}} is not defined", t.id);
            }
        }
    }
}
