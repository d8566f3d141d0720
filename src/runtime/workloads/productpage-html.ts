// The HTML of bookinfo's /productpage: the book, its details (or "Error fetching product details!") and
// its reviews with their stars (or "Error fetching product reviews!"). The markup follows the Istio
// sample's template where users and tests look: `glyphicon-star` spans inside `<font color="…">`, one
// `glyphicon-star-empty` for each missing star, and the pod that served the reviews.

export interface Product {
  id: number;
  title: string;
  descriptionHtml: string;
}

/** The outcome of a call to details or reviews: its status and JSON body (an `error` on failure). */
export interface Fetched {
  status: number;
  body: Record<string, unknown>;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const text = (value: unknown) => escapeHtml(value === undefined || value === null ? "" : String(value));

function detailsSection(details: Fetched): string {
  if (details.status !== 200) {
    return `<h4 class="text-center text-primary">Error fetching product details!</h4>
<p>${text(details.body["error"])}</p>`;
  }
  const d = details.body;
  const rows: [string, unknown][] = [
    ["Author", d["author"]],
    ["Year", d["year"]],
    ["Type", d["type"]],
    ["Pages", d["pages"]],
    ["Publisher", d["publisher"]],
    ["Language", d["language"]],
    ["ISBN-10", d["ISBN-10"]],
    ["ISBN-13", d["ISBN-13"]],
  ];
  return `<h4 class="text-center text-primary">Book Details</h4>
<dl>
${rows.map(([name, value]) => `<dt>${name}:</dt><dd>${text(value)}</dd>`).join("\n")}
</dl>`;
}

interface Review {
  reviewer?: unknown;
  text?: unknown;
  rating?: { stars?: unknown; color?: unknown; error?: unknown };
}

/** Full stars in the rating's color, then empty ones up to five; or the rating's error in italics. */
function ratingHtml(rating: Review["rating"]): string {
  if (rating === undefined || rating === null) return "";
  if (typeof rating.stars === "number") {
    const full = Math.max(0, Math.min(5, Math.trunc(rating.stars)));
    const stars = [
      ...Array.from({ length: full }, () => '<span class="glyphicon glyphicon-star"></span>'),
      ...Array.from({ length: 5 - full }, () => '<span class="glyphicon glyphicon-star-empty"></span>'),
    ];
    return `<font color="${text(rating.color)}">\n${stars.join("\n")}\n</font>`;
  }
  if (rating.error !== undefined) return `<p><i>${text(rating.error)}</i></p>`;
  return "";
}

function reviewsSection(reviews: Fetched): string {
  if (reviews.status !== 200) {
    return `<h4 class="text-center text-primary">Error fetching product reviews!</h4>
<p>${text(reviews.body["error"])}</p>`;
  }
  const list = Array.isArray(reviews.body["reviews"]) ? (reviews.body["reviews"] as Review[]) : [];
  const quotes = list.map(
    (review) => `<blockquote>
<p>${text(review.text)}</p>
<small>${text(review.reviewer)}</small>
${ratingHtml(review.rating)}
</blockquote>`,
  );
  return `<h4 class="text-center text-primary">Book Reviews</h4>
${quotes.join("\n")}
<dl>
<dt>Reviews served by:</dt>
<u>${text(reviews.body["podname"])}</u>
</dl>`;
}

export function renderProductPage(
  product: Product,
  details: Fetched,
  reviews: Fetched,
  user: string | undefined,
): string {
  const who = user
    ? `<p class="navbar-text navbar-right">${text(user)} <a href="/logout">sign out</a></p>`
    : "";
  return `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Simple Bookstore App</title>
</head>
<body>
<nav class="navbar navbar-inverse navbar-static-top">
<a class="navbar-brand" href="#">BookInfo Sample</a>
${who}
</nav>
<div class="container-fluid">
<div class="row">
<div class="col-md-12">
<h3 class="text-center text-primary">${text(product.title)}</h3>
<p>Summary: ${product.descriptionHtml}</p>
</div>
</div>
<div class="row">
<div class="col-md-6">
${detailsSection(details)}
</div>
<div class="col-md-6">
${reviewsSection(reviews)}
</div>
</div>
</div>
</body>
</html>
`;
}
