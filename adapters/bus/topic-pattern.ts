import { BusError } from './bus-errors.ts';
import { TOPIC_NAMES } from './topics.ts';

// AMQP topic-exchange matching, so the in-process bus routes exactly as RabbitMQ does: a topic is
// words separated by dots; in a pattern `*` stands for exactly one word and `#` for zero or more.

const WORD = /^[A-Za-z0-9_-]+$/;

export function assertTopic(topic: string): void {
  if (!topic.split('.').every((word) => WORD.test(word))) {
    throw new BusError(`"${topic}" is not a topic: use dot-separated words of letters, digits, _ or -`);
  }
}

export function assertPattern(pattern: string): void {
  if (!pattern.split('.').every((word) => word === '*' || word === '#' || WORD.test(word))) {
    throw new BusError(`"${pattern}" is not a topic pattern: use dot-separated words, * or #`);
  }
}

/** A group names a shared AMQP queue, so the in-process bus holds it to the same rule. */
export function assertGroupName(group: string): void {
  if (!WORD.test(group)) {
    throw new BusError(`group "${group}" cannot name a queue: use letters, digits, _ or -`);
  }
}

/** A pattern compiled once, then matched against many topics. */
export class TopicPattern {
  private readonly words: readonly string[];

  constructor(readonly source: string) {
    assertPattern(source);
    this.words = source.split('.');
  }

  matches(topic: string): boolean {
    return matchWords(this.words, 0, topic.split('.'), 0);
  }

  /** True when no known topic matches: almost always a typo, worth a warning at subscribe. */
  matchesNoKnownTopic(): boolean {
    return !TOPIC_NAMES.some((topic) => this.matches(topic));
  }
}

export function topicMatches(pattern: string, topic: string): boolean {
  return new TopicPattern(pattern).matches(topic);
}

function matchWords(pattern: readonly string[], p: number, topic: readonly string[], t: number): boolean {
  if (p === pattern.length) return t === topic.length;
  const word = pattern[p];
  if (word === '#') {
    for (let skip = t; skip <= topic.length; skip++) {
      if (matchWords(pattern, p + 1, topic, skip)) return true;
    }
    return false;
  }
  if (t === topic.length) return false;
  return (word === '*' || word === topic[t]) && matchWords(pattern, p + 1, topic, t + 1);
}
