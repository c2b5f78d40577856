//! `GrpcConnector`: calls one unary or server-streaming method of a proto compiled at run time,
//! on one lazily connected tonic `Channel`, and probes `grpc.health.v1`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prost_reflect::DynamicMessage;
use tonic::client::Grpc;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use super::codec::DynamicCodec;
use super::config::{GrpcPlan, config_error, plan, request_message};
use super::reply::{StreamCollector, unary_reply};
use super::status::{status_error, stream_error, transport_error};
use crate::connectors::dial::EgressDialer;
use crate::connectors::egress::EgressPolicy;
use crate::connectors::history::request_value;
use crate::connectors::http_config::outgoing_text;
use crate::connectors::{
    Connector, ConnectorError, HealthReport, OutboundMessage, Reply, TargetConnection,
};

const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// A connector for gRPC chatbots. See the module docs of `connectors::grpc` for the
/// `protocolConfig` keys. Cancel-safe: dropping `send` resets the HTTP/2 stream.
pub struct GrpcConnector {
    plan: GrpcPlan,
    /// Every connection of the channel (reconnects included) is dialled under it.
    egress: Arc<EgressPolicy>,
    channel: Option<Channel>,
}

/// Shows the URI and the method path; metadata (which carries credentials) is left out.
impl std::fmt::Debug for GrpcConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcConnector")
            .field("uri", &self.plan.uri)
            .field("path", &self.plan.path.as_str())
            .field("server_streaming", &self.plan.method.is_server_streaming())
            .field("connected", &self.channel.is_some())
            .finish_non_exhaustive()
    }
}

impl GrpcConnector {
    /// Compiles the proto, finds the method and prepares endpoint, TLS and metadata; errors are
    /// `Protocol` and name the field. Does not connect (see [`Connector::connect`]); the
    /// channel's connections are opened under `egress`.
    pub fn new(conn: &TargetConnection, egress: Arc<EgressPolicy>) -> Result<Self, ConnectorError> {
        Ok(Self {
            plan: plan(conn)?,
            egress,
            channel: None,
        })
    }

    /// The channel, connecting first if needed (connect timeout 10 s). TLS (when configured)
    /// runs over the dialled connection with the endpoint's host name.
    async fn channel(&mut self) -> Result<Channel, ConnectorError> {
        if let Some(channel) = &self.channel {
            return Ok(channel.clone());
        }
        let channel = self
            .plan
            .endpoint
            .connect_with_connector(EgressDialer(self.egress.clone()))
            .await
            .map_err(|e| transport_error(&self.plan.uri, &e))?;
        self.channel = Some(channel.clone());
        Ok(channel)
    }

    /// Auth and configured metadata plus `x-session-id`.
    fn metadata(&self, message: &OutboundMessage) -> MetadataMap {
        let mut headers = self.plan.metadata.clone();
        if let Ok(value) = message.session_id.to_string().parse() {
            headers.insert("x-session-id", value);
        }
        MetadataMap::from_headers(headers)
    }

    fn build_request(
        &self,
        message: &OutboundMessage,
        text: &str,
    ) -> Result<DynamicMessage, ConnectorError> {
        let input = self.plan.method.input();
        if message.inject.as_deref() == Some("empty_body") {
            return Ok(DynamicMessage::new(input));
        }
        let body = request_value(&self.plan.request, message, text)?;
        request_message(body, &input).map_err(|e| config_error(e.to_string()))
    }

    async fn call_unary(
        &self,
        grpc: &mut Grpc<Channel>,
        request: Request<DynamicMessage>,
        sent: &str,
    ) -> Result<Reply, ConnectorError> {
        let codec = DynamicCodec::new(self.plan.method.output());
        let response = grpc
            .unary(request, self.plan.path.clone(), codec)
            .await
            .map_err(|s| status_error(&s))?;
        unary_reply(response.get_ref(), &self.plan.response, sent)
    }

    async fn call_streaming(
        &self,
        grpc: &mut Grpc<Channel>,
        request: Request<DynamicMessage>,
        sent: &str,
    ) -> Result<Reply, ConnectorError> {
        let codec = DynamicCodec::new(self.plan.method.output());
        let started = Instant::now();
        let mut stream = grpc
            .server_streaming(request, self.plan.path.clone(), codec)
            .await
            .map_err(|s| status_error(&s))?
            .into_inner();
        let mut collector = StreamCollector::new(&self.plan.response, started);
        loop {
            match stream.message().await {
                Ok(Some(message)) => collector.push(&message)?,
                Ok(None) => return collector.finish(sent),
                Err(status) if collector.chunks() == 0 => return Err(status_error(&status)),
                Err(status) => {
                    return Err(stream_error(
                        &status,
                        collector.chunks(),
                        collector.partial(),
                    ));
                }
            }
        }
    }

    /// `grpc.health.v1.Health/Check` for `healthService`.
    async fn check_health(&mut self, started: Instant) -> HealthReport {
        let report = |healthy, detail: String| HealthReport {
            healthy,
            latency_ms: elapsed_ms(started),
            detail,
        };
        let channel = match self.channel().await {
            Ok(channel) => channel,
            Err(err) => return report(false, err.message),
        };
        let service = self.plan.health_service.clone();
        let mut request = Request::new(HealthCheckRequest {
            service: service.clone(),
        });
        *request.metadata_mut() = MetadataMap::from_headers(self.plan.metadata.clone());
        let name = if service.is_empty() {
            "(server)"
        } else {
            service.as_str()
        };
        match HealthClient::new(channel).check(request).await {
            Ok(response) => {
                let status = response.into_inner().status();
                let healthy =
                    status == tonic_health::pb::health_check_response::ServingStatus::Serving;
                report(
                    healthy,
                    format!("grpc.health.v1 Check {name}: {}", status.as_str_name()),
                )
            }
            Err(s) if s.code() == Code::Unimplemented => {
                report(true, "connected; no health service".to_string())
            }
            Err(s) => report(
                false,
                format!(
                    "grpc.health.v1 Check {name} failed: {}",
                    status_error(&s).message
                ),
            ),
        }
    }
}

#[async_trait::async_trait]
impl Connector for GrpcConnector {
    async fn connect(&mut self) -> Result<(), ConnectorError> {
        self.channel().await.map(drop)
    }

    async fn send(&mut self, message: &OutboundMessage) -> Result<Reply, ConnectorError> {
        let text = outgoing_text(message);
        let body = self.build_request(message, &text)?;
        let mut grpc = Grpc::new(self.channel().await?);
        grpc.ready()
            .await
            .map_err(|e| transport_error(&self.plan.uri, &e))?;
        let mut request = Request::new(body);
        *request.metadata_mut() = self.metadata(message);
        if self.plan.method.is_server_streaming() {
            self.call_streaming(&mut grpc, request, &text).await
        } else {
            self.call_unary(&mut grpc, request, &text).await
        }
    }

    async fn health(&mut self) -> HealthReport {
        let started = Instant::now();
        match tokio::time::timeout(HEALTH_TIMEOUT, self.check_health(started)).await {
            Ok(report) => report,
            Err(_) => HealthReport {
                healthy: false,
                latency_ms: elapsed_ms(started),
                detail: format!("no health answer within {} s", HEALTH_TIMEOUT.as_secs()),
            },
        }
    }

    async fn disconnect(&mut self) {
        self.channel = None;
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
