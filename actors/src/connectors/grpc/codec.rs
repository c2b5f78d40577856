//! A tonic codec for `prost_reflect::DynamicMessage`: encodes with `prost::Message::encode` and
//! decodes replies against the method's output descriptor, so any proto can be called at run time.

use prost::Message as _;
use prost::bytes::{Buf, BufMut};
use prost_reflect::{DynamicMessage, MessageDescriptor};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataMap, MetadataValue};

/// Metadata key marking a `Status` produced by the decoder (a reply that does not match the
/// proto), so that it is classified as a protocol error and not as a server error.
pub const DECODE_ERROR_MARKER: &str = "x-krawall-decode-error";

/// Codec for one method: requests are any `DynamicMessage`, replies are decoded as `output`.
#[derive(Debug, Clone)]
pub struct DynamicCodec {
    output: MessageDescriptor,
}

impl DynamicCodec {
    pub fn new(output: MessageDescriptor) -> Self {
        Self { output }
    }
}

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder {
            output: self.output.clone(),
        }
    }
}

/// Encodes a `DynamicMessage` in the protobuf wire format.
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        encode_message(&item, dst)
    }
}

/// Decodes replies as the method's output message.
#[derive(Debug, Clone)]
pub struct DynamicDecoder {
    output: MessageDescriptor,
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        decode_message(&self.output, src).map(Some)
    }
}

/// Writes `message` into `dst` (the buffer grows, so encoding cannot run out of space).
pub fn encode_message(message: &DynamicMessage, dst: &mut impl BufMut) -> Result<(), Status> {
    message
        .encode(dst)
        .map_err(|e| Status::internal(format!("encoding the request failed: {e}")))
}

/// Reads one `output` message from `src`; a mismatch is an `Internal` status marked with
/// [`DECODE_ERROR_MARKER`].
pub fn decode_message(output: &MessageDescriptor, src: impl Buf) -> Result<DynamicMessage, Status> {
    DynamicMessage::decode(output.clone(), src).map_err(|e| {
        let mut metadata = MetadataMap::new();
        metadata.insert(DECODE_ERROR_MARKER, MetadataValue::from_static("1"));
        Status::with_metadata(
            tonic::Code::Internal,
            format!("reply is not a valid {}: {e}", output.full_name()),
            metadata,
        )
    })
}

/// Whether `status` came from [`decode_message`].
pub fn is_decode_error(status: &Status) -> bool {
    status.metadata().contains_key(DECODE_ERROR_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::grpc::proto::compile;
    use prost::bytes::BytesMut;
    use prost_reflect::Value;

    const PROTO: &str = r#"syntax = "proto3";
package t;
message Req { string text = 1; repeated int32 n = 2; map<string, string> meta = 3; }
message Rep { string text = 1; Usage usage = 2; }
message Usage { uint32 prompt_tokens = 1; }
message Wrong { int64 text = 1; }
"#;

    #[test]
    fn round_trips_through_the_wire_format() {
        let pool = compile(PROTO).unwrap();
        let req = pool.get_message_by_name("t.Req").unwrap();
        let json = serde_json::json!({"text": "hi", "n": [1, 2], "meta": {"k": "v"}});
        let message = DynamicMessage::deserialize(req.clone(), json).unwrap();
        let mut buf = BytesMut::new();
        encode_message(&message, &mut buf).unwrap();
        let decoded = decode_message(&req, buf.freeze()).unwrap();
        assert_eq!(decoded, message);
        assert_eq!(
            decoded.get_field_by_name("text").unwrap().as_ref(),
            &Value::String("hi".into())
        );
    }

    #[test]
    fn a_reply_of_the_wrong_shape_is_a_marked_decode_error() {
        let pool = compile(PROTO).unwrap();
        let rep = pool.get_message_by_name("t.Rep").unwrap();
        let wrong = pool.get_message_by_name("t.Wrong").unwrap();
        let message = DynamicMessage::deserialize(wrong, serde_json::json!({"text": "5"})).unwrap();
        let mut buf = BytesMut::new();
        encode_message(&message, &mut buf).unwrap();
        let err = decode_message(&rep, buf.freeze()).unwrap_err();
        assert_eq!(err.code(), tonic::Code::Internal);
        assert!(is_decode_error(&err), "{err:?}");
        assert!(err.message().contains("t.Rep"), "{}", err.message());
        assert!(!is_decode_error(&Status::internal("server side")));
    }

    #[test]
    fn codec_hands_out_matching_encoder_and_decoder() {
        let pool = compile(PROTO).unwrap();
        let mut codec = DynamicCodec::new(pool.get_message_by_name("t.Rep").unwrap());
        let _encoder = codec.encoder();
        assert_eq!(codec.decoder().output.full_name(), "t.Rep");
    }
}
