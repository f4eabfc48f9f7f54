//! The one place that decides what a Kafka error means for the service:
//! retry it, abort and replay the batch, or stop.
//!
//! librdkafka already retries most transient produce and fetch failures itself;
//! what reaches warta is classified here, and the service only ever matches on
//! [`ErrorClass`].

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// What the service does about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient (broker down, timeouts, leader moves): back off and retry the
    /// same step; counted.
    Retriable,
    /// The batch cannot be committed: abort it, rewind the consumer to the
    /// committed offsets and process the batch again. Nothing is skipped.
    AbortBatch,
    /// The producer is unusable (fenced, fatal idempotence error): abort,
    /// rewind, and build a new producer.
    RecreateProducer,
    /// Configuration or programming errors that no retry fixes: log and exit
    /// non-zero.
    Fatal,
}

impl ErrorClass {
    /// A bounded label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Retriable => "retriable",
            ErrorClass::AbortBatch => "abort_batch",
            ErrorClass::RecreateProducer => "recreate_producer",
            ErrorClass::Fatal => "fatal",
        }
    }
}

/// Classifies an error raised by a consumer, producer or transaction call.
pub fn classify(e: &KafkaError) -> ErrorClass {
    if let KafkaError::Transaction(t) = e {
        return if t.is_fatal() {
            ErrorClass::RecreateProducer
        } else if t.txn_requires_abort() {
            ErrorClass::AbortBatch
        } else if t.is_retriable() {
            ErrorClass::Retriable
        } else {
            classify_code(t.code())
        };
    }
    match e {
        KafkaError::ClientConfig(..)
        | KafkaError::ClientCreation(_)
        | KafkaError::Subscription(_) => ErrorClass::Fatal,
        KafkaError::Canceled => ErrorClass::AbortBatch,
        // librdkafka raised a fatal error on the consumer (a static member
        // fenced by FENCED_INSTANCE_ID, say): the consumer delivers nothing any
        // more, so retrying would leave the instance looking alive and ready
        // while it processes nothing (tests/kafka_faults.rs saw it). Exit and
        // let the supervisor restart the instance.
        KafkaError::MessageConsumptionFatal(_) => ErrorClass::Fatal,
        _ => match e.rdkafka_error_code() {
            Some(code) => classify_code(code),
            None => ErrorClass::Retriable,
        },
    }
}

fn classify_code(code: RDKafkaErrorCode) -> ErrorClass {
    use RDKafkaErrorCode as C;
    match code {
        C::Fatal
        | C::ProducerFenced
        | C::InvalidProducerEpoch
        | C::TransactionalIdAuthorizationFailed
        | C::InvalidProducerIdMapping
        | C::OutOfOrderSequenceNumber
        | C::UnknownProducerId => ErrorClass::RecreateProducer,
        C::TopicAuthorizationFailed
        | C::GroupAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::SaslAuthenticationFailed
        | C::Authentication
        | C::InvalidConfig
        | C::UnknownTopicOrPartition
        | C::UnknownTopic
        | C::InvalidArgument
        | C::UnsupportedVersion => ErrorClass::Fatal,
        C::MessageSizeTooLarge
        | C::InvalidRecord
        | C::InvalidMessage
        | C::InvalidMessageSize
        | C::MessageTimedOut
        | C::PurgeQueue
        | C::PurgeInflight
        | C::State
        | C::InvalidTransactionalState
        | C::ConcurrentTransactions
        | C::InvalidTransactionTimeout => ErrorClass::AbortBatch,
        _ => ErrorClass::Retriable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::error::KafkaError;

    #[test]
    fn classes() {
        assert_eq!(
            classify(&KafkaError::MessageProduction(
                RDKafkaErrorCode::BrokerTransportFailure
            )),
            ErrorClass::Retriable
        );
        assert_eq!(
            classify(&KafkaError::MessageProduction(
                RDKafkaErrorCode::ProducerFenced
            )),
            ErrorClass::RecreateProducer
        );
        assert_eq!(
            classify(&KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageSizeTooLarge
            )),
            ErrorClass::AbortBatch
        );
        assert_eq!(
            classify(&KafkaError::Subscription("x".into())),
            ErrorClass::Fatal
        );
        assert_eq!(
            classify(&KafkaError::ConsumerCommit(
                RDKafkaErrorCode::TopicAuthorizationFailed
            )),
            ErrorClass::Fatal
        );
        // A fatal consumer error ends the run; the same code outside the
        // consumer's fatal state is an ordinary retriable one.
        assert_eq!(
            classify(&KafkaError::MessageConsumptionFatal(
                RDKafkaErrorCode::FencedInstanceId
            )),
            ErrorClass::Fatal
        );
        assert_eq!(
            classify(&KafkaError::MessageConsumption(
                RDKafkaErrorCode::AllBrokersDown
            )),
            ErrorClass::Retriable
        );
    }
}
