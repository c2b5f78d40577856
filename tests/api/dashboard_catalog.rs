//! Target and scenario pages, path checks against a sample reply, YAML export/import and the
//! scenario template gallery.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, branching_scenario, spawn_app};

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let resp = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    if status == 200 {
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
    }
    (status, resp.text().await.unwrap())
}

/// A scenario using every canonical field.
fn full_scenario() -> Value {
    json!({
        "name": "Full: every field / round trip", "description": "all fields", "category": "STRESS_TEST",
        "flowConfig": [
            {"type": "message", "config": {"content": "Hi {{greeting}} #{{orderId}}", "inject": "oversized"}},
            {"type": "delay", "config": {"durationMs": 250}},
            {"type": "loop", "config": {"iterations": 2, "steps": [{"type": "message", "config": {"content": "again {{index}}"}}]}},
            {"type": "conditional", "config": {"condition": "jsonpath:$.ok == true",
                "thenSteps": [{"type": "message", "config": {"content": "yes"}}],
                "elseSteps": [{"type": "delay", "config": {"durationMs": 5}}]}}
        ],
        "repetitions": 3, "concurrency": 2, "delayBetweenMs": 100, "messageTimeoutMs": 12000,
        "messageTemplates": {"greeting": "friend"}, "verbosityLevel": "extreme",
        "variableExtractors": {"orderId": "$.order.id"},
        "errorHandling": {"onError": "retry", "retryConfig": {"maxRetries": 5, "delayMs": 200, "backoffMultiplier": 2.5, "maxDelayMs": 9000},
            "statusCodeRules": [{"codes": [429, 503], "action": "retry"}, {"codes": [401], "action": "abort"}]}
    })
}

/// The canonical fields of a scenario view (identity and timestamps removed).
fn canonical(view: &Value) -> Value {
    let mut v = view.clone();
    for key in ["id", "createdAt", "updatedAt", "version"] {
        v.as_object_mut().unwrap().remove(key);
    }
    v
}

fn multipart(files: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "krawall-test-boundary-7d1f";
    let mut body = String::new();
    for (name, content) in files {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/yaml\r\n\r\n{content}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

async fn import(app: &TestApp, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/api/scenarios/import", app.address))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[actix_web::test]
async fn target_pages_render_and_never_show_secrets() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (_, html) = page(&app, "/targets").await;
    assert!(html.contains("data-testid=\"targets-empty\""), "{html}");
    let id = app
        .create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let (status, html) = page(&app, "/targets").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-testid=\"target-row\"")
            && html.contains(&format!("/targets/{id}/edit")),
        "{html}"
    );
    assert!(
        html.contains("HTTP_REST")
            && html.contains("never tested")
            && html.contains("target-filter")
    );
    let (status, html) = page(&app, "/targets/new").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("preset-openai-chat") && html.contains("Check paths against a sample reply"),
        "{html}"
    );
    assert!(
        html.contains("id=\"presets-data\"") && !html.contains("</script><"),
        "presets JSON must not break out"
    );
    let (status, html) = page(&app, &format!("/targets/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("test-connection") && html.contains(&app.mock.url()),
        "{html}"
    );
    let (status, html) = page(&app, &format!("/targets/{id}/edit")).await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"********\""), "{html}");
    for path in [
        format!("/targets/{id}"),
        format!("/targets/{id}/edit"),
        "/targets".into(),
    ] {
        let (_, html) = page(&app, &path).await;
        assert!(
            !html.contains("sk-test-secret-123"),
            "{path} leaks the secret"
        );
    }
    for path in [
        "/targets/00000000-0000-0000-0000-000000000000",
        "/targets/nope/edit",
    ] {
        assert_eq!(page(&app, path).await.0, 404, "{path}");
    }
}

#[actix_web::test]
async fn scenario_pages_render_list_editor_and_gallery() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let id = app.create("/api/scenarios", &branching_scenario()).await;
    app.create("/api/targets", &app.mock_target("/v1/chat/completions"))
        .await;
    let (status, html) = page(&app, "/scenarios").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-testid=\"scenario-row\"") && html.contains(">branching<"),
        "{html}"
    );
    assert!(
        html.contains(&format!("/api/scenarios/{id}/export")) && html.contains("execute-target")
    );
    let (_, html) = page(&app, "/scenarios?search=zzz").await;
    assert!(
        !html.contains("data-testid=\"scenario-row\"") && html.contains("No scenario matches"),
        "{html}"
    );
    let (status, html) = page(&app, "/scenarios/new").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("data-testid=\"template-card\"").count(), 15);
    assert!(
        html.contains("template-stress-test-basic")
            && html.contains("flow-builder")
            && html.contains("\"lastResponse\"")
    );
    let (status, html) = page(&app, &format!("/scenarios/{id}/edit")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Edit branching"), "{html}");
    assert!(
        html.contains("\"errorHandling\"") && html.contains("\"messageTimeoutMs\":30000"),
        "{html}"
    );
    let r = crate::helpers::anonymous_client()
        .get(format!("{}/scenarios/{id}", app.address))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], format!("/scenarios/{id}/edit"));
    for path in [
        "/scenarios/00000000-0000-0000-0000-000000000000/edit",
        "/scenarios/nope",
    ] {
        assert_eq!(page(&app, path).await.0, 404, "{path}");
    }
}

#[actix_web::test]
async fn validate_templates_reports_what_each_path_extracts() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let sample = r#"{"choices": [{"message": {"content": "Hi there"}}], "usage": {"prompt_tokens": 9, "completion_tokens": 3}, "id": "x1"}"#;
    let body = json!({
        "requestTemplate": {"messagePath": "messages.0.content", "structure": {"model": "m", "messages": [{"role": "user", "content": ""}]}},
        "responseTemplate": {"responsePath": "$.choices[0].message.content", "tokenUsagePath": "usage", "errorPath": "error.message"},
        "sampleResponse": sample,
    });
    let (status, resp) = app.post("/api/templates/validate", &body).await;
    assert_eq!(status, 200, "{resp}");
    let d = &resp["data"];
    assert_eq!(d["messagePath"]["ok"], true);
    assert_eq!(
        d["messagePath"]["value"]["messages"][0]["content"],
        "Hello!"
    );
    assert_eq!(d["responsePath"], json!({"ok": true, "value": "Hi there"}));
    assert_eq!(
        d["tokenUsagePath"],
        json!({"ok": true, "value": {"input": 9, "output": 3}})
    );
    assert_eq!(d["errorPath"], json!({"ok": true}));
    let suggestions: Vec<&str> = d["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(suggestions, vec!["choices.0.message.content", "id"]);

    let bad = json!({
        "requestTemplate": {"messagePath": "items[*].text"},
        "responseTemplate": {"responsePath": "reply.text", "tokenUsagePath": "id", "errorPath": "$.a[?"},
        "sampleResponse": json!({"id": "x1"}),
    });
    let (status, resp) = app.post("/api/templates/validate", &bad).await;
    assert_eq!(status, 200, "{resp}");
    for key in ["messagePath", "responsePath", "tokenUsagePath", "errorPath"] {
        assert_eq!(resp["data"][key]["ok"], false, "{key}: {resp}");
        assert!(resp["data"][key]["error"].is_string(), "{key}: {resp}");
    }

    let (status, resp) = app.post("/api/templates/validate", &json!({
        "requestTemplate": {"messagePath": "m"}, "responseTemplate": {"responsePath": "r"}, "sampleResponse": "{not json"})).await;
    assert_eq!(status, 400);
    assert_eq!(resp["details"][0]["field"], "sampleResponse", "{resp}");
    let (status, resp) = app
        .post(
            "/api/templates/validate",
            &json!({"requestTemplate": {"messagePath": "m"}, "sampleResponse": {}}),
        )
        .await;
    assert_eq!(status, 400, "{resp}");
}

#[actix_web::test]
async fn yaml_export_then_import_gives_the_identical_scenario() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let id = app.create("/api/scenarios", &full_scenario()).await;
    let (_, original) = app.get(&format!("/api/scenarios/{id}")).await;
    let r = app
        .client
        .get(format!("{}/api/scenarios/{id}/export", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/yaml")
    );
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"full_every_field_round_trip.yaml\""
    );
    let yaml = r.text().await.unwrap();
    for key in [
        "errorHandling:",
        "statusCodeRules:",
        "variableExtractors:",
        "messageTimeoutMs: 12000",
        "inject: oversized",
    ] {
        assert!(yaml.contains(key), "{key} missing from\n{yaml}");
    }
    let (status, resp) = import(&app, "application/yaml", yaml.into_bytes()).await;
    assert_eq!(status, 200, "{resp}");
    let imported = &resp["data"]["imported"];
    assert_eq!(imported.as_array().unwrap().len(), 1, "{resp}");
    assert_eq!(imported[0]["file"], "body");
    assert_eq!(imported[0]["name"], "Full: every field / round trip");
    let new_id = imported[0]["id"].as_str().unwrap();
    assert_ne!(new_id, id);
    let (_, copy) = app.get(&format!("/api/scenarios/{new_id}")).await;
    assert_eq!(canonical(&copy["data"]), canonical(&original["data"]));
    let missing = app
        .client
        .get(format!(
            "{}/api/scenarios/{}/export",
            app.address,
            uuid::Uuid::nil()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[actix_web::test]
async fn import_of_two_files_keeps_the_valid_one_and_writes_nothing_of_the_invalid_one() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let good = "name: good one\nflowConfig:\n  - type: message\n    config: {content: hello}\n";
    let bad = "---\nname: would be fine\nflowConfig: [{type: message, content: hi}]\n---\nname: broken\nrepetitions: 0\nflowConfig: [{type: teleport}]\n";
    let (ct, body) = multipart(&[("good.yaml", good), ("bad.yaml", bad)]);
    let (status, resp) = import(&app, &ct, body).await;
    assert_eq!(status, 200, "{resp}");
    let data = &resp["data"];
    assert_eq!(data["imported"].as_array().unwrap().len(), 1, "{resp}");
    assert_eq!(data["imported"][0]["file"], "good.yaml");
    assert_eq!(data["errors"].as_array().unwrap().len(), 1);
    assert_eq!(data["errors"][0]["file"], "bad.yaml");
    let fields: Vec<&str> = data["errors"][0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"[1].flowConfig[0].type"), "{fields:?}");
    let (_, list) = app.get("/api/scenarios").await;
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["good one"],
        "nothing of bad.yaml may be written"
    );

    let (ct, body) = multipart(&[("bad.yaml", bad)]);
    let (status, resp) = import(&app, &ct, body).await;
    assert_eq!(status, 400, "{resp}");
    assert_eq!(resp["success"], false);
    assert_eq!(resp["data"]["errors"][0]["file"], "bad.yaml");
    assert!(
        resp["details"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("bad.yaml: "),
        "{resp}"
    );
    let (status, _) = import(&app, "application/yaml", b"- name: a\n  flowConfig: [{type: message, content: x}]\n- name: b\n  flowConfig: [{type: message, content: y}]\n".to_vec()).await;
    assert_eq!(status, 200);
    assert_eq!(
        import(&app, "application/yaml", b"  \n".to_vec()).await.0,
        400
    );
    assert_eq!(
        import(&app, "text/plain", b"name: x\n".to_vec()).await.0,
        415
    );
}

#[actix_web::test]
async fn templates_endpoint_serves_fifteen_templates_the_api_accepts() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (status, resp) = app.get("/api/scenarios/templates").await;
    assert_eq!(status, 200);
    let templates = resp["data"].as_array().unwrap();
    assert_eq!(templates.len(), 15);
    let ids: Vec<&str> = templates
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "stress-test-basic");
    assert!(
        ids.contains(&"branching-conversation") && ids.contains(&"polite-persistent-requester")
    );
    let basic = &templates[0];
    assert_eq!(
        basic["messageTemplates"]["greeting"]
            .as_str()
            .map(|s| !s.is_empty()),
        Some(true)
    );
    assert_eq!(
        basic["flowConfig"][1]["config"]["steps"][0]["config"]["content"],
        "{{repetitive_question}}"
    );
    let branching = templates
        .iter()
        .find(|t| t["id"] == "branching-conversation")
        .unwrap();
    assert_eq!(
        branching["flowConfig"][1]["config"]["condition"],
        "contains:yes"
    );
    for t in templates {
        let (status, resp) = app.post("/api/scenarios", t).await;
        assert_eq!(status, 201, "{}: {resp}", t["id"]);
    }
}
