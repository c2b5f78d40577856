//! Unit tests of the event assembly: OpenAI and Anthropic event sequences, stop and error
//! events, malformed events, usage merging and chunk timing.

use super::*;

fn rules(response_path: &str) -> Rules {
    Rules {
        response_path: response_path.to_string(),
        token_usage_path: None,
        error_path: Some("error.message".to_string()),
        stop_events: ["message_stop", "done", "complete"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

fn openai_chunk(delta: Value) -> String {
    json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]})
        .to_string()
}

#[test]
fn openai_sequence_joins_deltas_and_takes_final_usage() {
    let rules = rules("choices.0.delta.content");
    let mut a = Assembler::new(&rules);
    let events = [
        (openai_chunk(json!({"role": "assistant"})), 5),
        (openai_chunk(json!({"content": "Hel"})), 10),
        (openai_chunk(json!({"content": "lo,\n"})), 30),
        (openai_chunk(json!({"content": null})), 40),
        (openai_chunk(json!({"content": "world"})), 70),
        (
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": null})
                .to_string(),
            71,
        ),
        (
            json!({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}})
                .to_string(),
            72,
        ),
    ];
    for (data, at) in &events {
        assert_eq!(a.push("message", data, *at), Step::Continue, "{data}");
    }
    assert!(!a.ended());
    assert_eq!(a.push("message", "[DONE]", 73), Step::End);
    assert!(a.ended());
    let done = a.finish("hi", 80).unwrap();
    assert_eq!(done.text, "Hello,\nworld");
    assert_eq!(
        done.tokens,
        TokenCounts {
            input: 7,
            output: 3,
            estimated: false
        }
    );
    assert_eq!(done.json["usage"]["total_tokens"], 10);
    assert_eq!(done.metrics.ttft_ms, 10);
    assert_eq!(done.metrics.chunks, 3);
    assert_eq!(done.metrics.inter_chunk_max_ms, 40);
    assert!((done.metrics.inter_chunk_mean_ms - 30.0).abs() < f64::EPSILON);
}

#[test]
fn anthropic_sequence_merges_usage_and_stops_at_message_stop() {
    let rules = rules("delta.text");
    let mut a = Assembler::new(&rules);
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 25, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", json!({"type": "ping"})),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi "}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "there"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 15}}),
        ),
    ];
    for (i, (name, data)) in events.iter().enumerate() {
        let step = a.push(name, &data.to_string(), i as u64);
        assert_eq!(step, Step::Continue, "{name}");
    }
    let stop = json!({"type": "message_stop"}).to_string();
    assert_eq!(a.push("message_stop", &stop, 9), Step::End);
    let done = a.finish("hello", 10).unwrap();
    assert_eq!(done.text, "Hi there");
    assert_eq!(
        done.tokens,
        TokenCounts {
            input: 25,
            output: 15,
            estimated: false
        }
    );
    assert_eq!(done.metrics.chunks, 2);
    assert_eq!(done.metrics.ttft_ms, 3);
}

#[test]
fn typed_stop_and_custom_stop_events() {
    let r = rules("content");
    let mut a = Assembler::new(&r);
    assert_eq!(a.push("message", r#"{"content": "a"}"#, 1), Step::Continue);
    assert_eq!(a.push("message", r#"{"type": "done"}"#, 2), Step::End);
    let mut custom = rules("content");
    custom.stop_events = vec!["end".into()];
    let mut a = Assembler::new(&custom);
    assert_eq!(a.push("message", r#"{"type": "done"}"#, 2), Step::Continue);
    assert_eq!(a.push("end", "bye", 3), Step::End);
}

#[test]
fn missing_usage_is_estimated_and_json_falls_back() {
    let r = rules("content");
    let mut a = Assembler::new(&r);
    a.push("message", r#"{"content": "abcdefgh"}"#, 1);
    let done = a.finish("12345", 2).unwrap();
    assert_eq!(
        done.tokens,
        TokenCounts {
            input: 2,
            output: 2,
            estimated: true
        }
    );
    assert_eq!(done.json, json!({"content": "abcdefgh"}));
    assert_eq!(done.metrics.inter_chunk_mean_ms, 0.0);
}

#[test]
fn malformed_events_are_skipped_but_reported_when_nothing_resolved() {
    let r = rules("content");
    let mut a = Assembler::new(&r);
    assert_eq!(a.push("message", "{not json", 1), Step::Continue);
    assert_eq!(a.push("message", r#"{"content": "ok"}"#, 2), Step::Continue);
    assert_eq!(a.finish("", 3).unwrap().text, "ok");

    let mut a = Assembler::new(&r);
    a.push("message", "{not json", 1);
    a.push("message", r#"{"other": 1}"#, 2);
    let err = a.finish("", 3).unwrap_err();
    assert!(err.contains("responsePath `content`"), "{err}");
    assert!(err.contains("1 of 2 events were not JSON"), "{err}");

    let mut a = Assembler::new(&r);
    a.push("message", r#"{"other": 1}"#, 2);
    let err = a.finish("", 3).unwrap_err();
    assert!(err.contains("any of the 1 events"), "{err}");
    assert!(Assembler::new(&r).finish("", 0).is_err());
}

#[test]
fn empty_content_resolves_without_counting_a_chunk() {
    let r = rules("content");
    let mut a = Assembler::new(&r);
    a.push("message", r#"{"content": ""}"#, 4);
    let done = a.finish("", 9).unwrap();
    assert_eq!(done.text, "");
    assert_eq!(done.metrics.chunks, 0);
    assert_eq!(done.metrics.ttft_ms, 4);
}

#[test]
fn error_events_fail_the_stream() {
    let r = rules("delta.text");
    let mut a = Assembler::new(&r);
    let data =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    assert_eq!(
        a.push("error", &data.to_string(), 1),
        Step::Failed("Overloaded".into())
    );
    let mut a = Assembler::new(&r);
    assert_eq!(
        a.push("error", "upstream gone", 1),
        Step::Failed("upstream gone".into())
    );
    let mut no_error_path = rules("choices.0.delta.content");
    no_error_path.error_path = None;
    let mut a = Assembler::new(&no_error_path);
    let data = json!({"error": {"message": "bad key", "type": "auth"}});
    assert_eq!(
        a.push("message", &data.to_string(), 1),
        Step::Failed("bad key".into())
    );
}

#[test]
fn raw_capture_truncates() {
    let mut raw = RawCapture::new(8);
    raw.push(b"data: 1\n");
    raw.push(b"\n");
    assert_eq!(raw.into_text(), "data: 1\n\n…[truncated]");
    let mut raw = RawCapture::new(64);
    raw.push(b"data: [DONE]\n\n");
    assert_eq!(raw.into_text(), "data: [DONE]\n\n");
}
