// The bookinfo reviews stand-in (istio/examples-bookinfo-reviews-v1/-v2/-v3): GET /reviews/ID answers two
// reviews of the product; v2 and v3 also ask ratings for each reviewer's stars and show them in black
// (v2) or red (v3). When ratings cannot answer, each review says "Ratings service is currently
// unavailable" instead. GET /health says it is healthy.
import { BOOKINFO_PORT } from "./details.js";
import { TRACING_HEADERS, getJson, pickHeaders } from "./call.js";
import { send, sendCompactJson, type Handler } from "./http-util.js";
import type { Logger } from "./log.js";

type Env = Record<string, string | undefined>;

export interface ReviewsOptions {
  enableRatings: boolean;
  starColor: string;
  ratingsHost: string;
  ratingsPort: number;
  /** How long the call to ratings may take (connect and answer). */
  ratingsTimeoutMs: number;
  podName: string;
  clusterName: string;
}

/** What each image version bakes into its environment (its Dockerfile's build arguments). */
const VERSIONS: Record<string, { enableRatings: boolean; starColor: string }> = {
  v1: { enableRatings: false, starColor: "black" },
  v2: { enableRatings: true, starColor: "black" },
  v3: { enableRatings: true, starColor: "red" },
};

export const REVIEWS_VERSIONS = Object.keys(VERSIONS);

/**
 * Options from the image version (`--version v2`) and the environment, which overrides the image's
 * defaults the way a container's env does: ENABLE_RATINGS, STAR_COLOR, RATINGS_HOSTNAME (+
 * SERVICES_DOMAIN), RATINGS_SERVICE_PORT, HOSTNAME (the pod name), CLUSTER_NAME.
 */
export function reviewsOptions(args: string[], env: Env): ReviewsOptions {
  const i = args.indexOf("--version");
  const version = VERSIONS[i >= 0 ? (args[i + 1] ?? "") : "v1"] ?? VERSIONS["v1"]!;
  const enableRatings =
    env["ENABLE_RATINGS"] !== undefined
      ? env["ENABLE_RATINGS"].toLowerCase() === "true"
      : version.enableRatings;
  const starColor = env["STAR_COLOR"] ?? version.starColor;
  const domain = env["SERVICES_DOMAIN"] ? `.${env["SERVICES_DOMAIN"]}` : "";
  const port = Number(env["RATINGS_SERVICE_PORT"] ?? BOOKINFO_PORT);
  return {
    enableRatings,
    starColor,
    ratingsHost: (env["RATINGS_HOSTNAME"] ?? "ratings") + domain,
    ratingsPort: Number.isInteger(port) ? port : BOOKINFO_PORT,
    // The Java service waits 10 s for ratings with black stars and 2.5 s with any other color.
    ratingsTimeoutMs: starColor === "black" ? 10_000 : 2_500,
    podName: env["HOSTNAME"] ?? "",
    clusterName: env["CLUSTER_NAME"] ?? "null",
  };
}

/** Headers reviews passes on to ratings (tracing context and the application's own). */
const PROPAGATED = [...TRACING_HEADERS, "end-user", "user-agent"];

const REVIEWS = [
  {
    reviewer: "Reviewer1",
    text: "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!",
  },
  {
    reviewer: "Reviewer2",
    text: "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.",
  },
];

export type Rating = { stars: number; color: string } | { error: string };

/**
 * The reviews document: the product id as a string, the pod that answered, and each review with its
 * rating when ratings are enabled (`stars` from ratings, or the unavailable note when it had none).
 */
export function reviewsDocument(
  productId: number,
  options: ReviewsOptions,
  stars: Record<string, number> | undefined,
): Record<string, unknown> {
  return {
    id: String(productId),
    podname: options.podName,
    clustername: options.clusterName,
    reviews: REVIEWS.map((review) => {
      if (!options.enableRatings) return { ...review };
      const count = stars?.[review.reviewer];
      const rating: Rating =
        typeof count === "number"
          ? { stars: count, color: options.starColor }
          : { error: "Ratings service is currently unavailable" };
      return { ...review, rating };
    }),
  };
}

export function reviewsHandler(options: ReviewsOptions, log?: Logger): Handler {
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const method = req.method ?? "";
    if (method !== "GET" && method !== "HEAD") {
      send(res, 405, "Method Not Allowed\n", "text/plain; charset=utf-8", { Allow: "GET, HEAD" });
      return;
    }
    if (path === "/health") {
      sendCompactJson(res, 200, { status: "Reviews is healthy" });
      return;
    }
    const match = /^\/reviews\/(-?\d+)$/.exec(path);
    if (match === null) {
      send(res, 404, "Not Found\n", "text/plain; charset=utf-8");
      return;
    }
    const id = Number(match[1]);
    let stars: Record<string, number> | undefined;
    if (options.enableRatings) {
      const answer = await getJson({
        host: options.ratingsHost,
        port: options.ratingsPort,
        path: `/ratings/${id}`,
        headers: { accept: "application/json", ...pickHeaders(req.headers, PROPAGATED) },
        timeoutMs: options.ratingsTimeoutMs,
      });
      const ratings = (answer.json as { ratings?: unknown } | undefined)?.ratings;
      if (ratings !== null && typeof ratings === "object") stars = ratings as Record<string, number>;
      else log?.("ratings-unavailable", { error: answer.error ?? "no ratings in the answer" });
    }
    sendCompactJson(res, 200, reviewsDocument(id, options, stars));
  };
}
