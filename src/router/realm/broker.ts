import { ErrorUri } from "../errors.js";
import { randomId, type MatchPolicy } from "../ids.js";
import { errorMessage, MessageType, payloadTail, type WampDict, type WampList } from "../messages.js";
import { sharedMessage, type Peer } from "../peer.js";
import { createUriTable, type PrefixMode } from "../uri-table.js";

interface Subscription {
  readonly id: number;
  readonly uri: string;
  readonly match: MatchPolicy;
  readonly subscribers: Set<Peer>;
}

export interface PublishRequest {
  readonly topic: string;
  readonly options: WampDict;
  readonly args: WampList | undefined;
  readonly kwargs: WampDict | undefined;
  /** Reveal the publisher's identity to subscribers. */
  readonly disclose: boolean;
}

export interface Broker {
  subscribe(peer: Peer, requestId: number, topic: string, match: MatchPolicy): void;
  unsubscribe(peer: Peer, requestId: number, subscriptionId: number): void;
  /** Delivers one publication; returns its publication id. `publisher` is undefined for router events. */
  publish(publisher: Peer | undefined, request: PublishRequest): number;
  removePeer(peer: Peer): void;
}

export function createBroker(prefixMode: PrefixMode): Broker {
  const subscriptions = createUriTable<Subscription>(prefixMode);
  const subscriptionsById = new Map<number, Subscription>();
  const byPeer = new Map<number, Set<Subscription>>();

  const drop = (peer: Peer, subscription: Subscription): void => {
    subscription.subscribers.delete(peer);
    byPeer.get(peer.session)?.delete(subscription);
    if (subscription.subscribers.size === 0) {
      subscriptions.delete(subscription.uri, subscription.match);
      subscriptionsById.delete(subscription.id);
    }
  };

  return {
    subscribe(peer, requestId, topic, match) {
      let subscription = subscriptions.get(topic, match);
      if (subscription === undefined) {
        subscription = { id: randomId(), uri: topic, match, subscribers: new Set() };
        subscriptions.set(topic, match, subscription);
        subscriptionsById.set(subscription.id, subscription);
      }
      subscription.subscribers.add(peer);
      let mine = byPeer.get(peer.session);
      if (mine === undefined) {
        mine = new Set();
        byPeer.set(peer.session, mine);
      }
      mine.add(subscription);
      peer.send([MessageType.SUBSCRIBED, requestId, subscription.id]);
    },

    unsubscribe(peer, requestId, subscriptionId) {
      const subscription = subscriptionsById.get(subscriptionId);
      if (subscription === undefined || !subscription.subscribers.has(peer)) {
        peer.send(errorMessage(MessageType.UNSUBSCRIBE, requestId, ErrorUri.noSuchSubscription));
        return;
      }
      drop(peer, subscription);
      peer.send([MessageType.UNSUBSCRIBED, requestId]);
    },

    publish(publisher, request) {
      const publicationId = randomId();
      const matches = subscriptions.all(request.topic, []);
      if (matches.length === 0) return publicationId;
      const filter = createReceiverFilter(publisher, request.options);
      const tail = payloadTail(request.args, request.kwargs);
      for (const subscription of matches) {
        const details: WampDict = {};
        if (subscription.match !== "exact") details.topic = request.topic;
        if (request.disclose && publisher !== undefined) {
          details.publisher = publisher.session;
          details.publisher_authid = publisher.authid;
          details.publisher_authrole = publisher.authrole;
        }
        const event = sharedMessage([MessageType.EVENT, subscription.id, publicationId, details, ...tail]);
        for (const subscriber of subscription.subscribers) {
          if (filter(subscriber)) subscriber.sendShared(event);
        }
      }
      return publicationId;
    },

    removePeer(peer) {
      const mine = byPeer.get(peer.session);
      if (mine === undefined) return;
      for (const subscription of [...mine]) drop(peer, subscription);
      byPeer.delete(peer.session);
    },
  };
}

function listOption(options: WampDict, key: string): Set<unknown> | undefined {
  const value = options[key];
  return Array.isArray(value) ? new Set(value) : undefined;
}

/** exclude_me (default true), exclude/eligible by session, authid and authrole. */
function createReceiverFilter(publisher: Peer | undefined, options: WampDict): (peer: Peer) => boolean {
  const excludeMe = options.exclude_me !== false;
  const exclude = listOption(options, "exclude");
  const eligible = listOption(options, "eligible");
  const excludeAuthid = listOption(options, "exclude_authid");
  const eligibleAuthid = listOption(options, "eligible_authid");
  const excludeAuthrole = listOption(options, "exclude_authrole");
  const eligibleAuthrole = listOption(options, "eligible_authrole");
  const simple = !exclude && !eligible && !excludeAuthid && !eligibleAuthid && !excludeAuthrole && !eligibleAuthrole;
  if (simple) return excludeMe && publisher !== undefined ? (peer) => peer !== publisher : () => true;
  return (peer) => {
    if (excludeMe && peer === publisher) return false;
    if (exclude?.has(peer.session)) return false;
    if (eligible && !eligible.has(peer.session)) return false;
    if (excludeAuthid?.has(peer.authid)) return false;
    if (eligibleAuthid && !eligibleAuthid.has(peer.authid)) return false;
    if (excludeAuthrole?.has(peer.authrole)) return false;
    if (eligibleAuthrole && !eligibleAuthrole.has(peer.authrole)) return false;
    return true;
  };
}
