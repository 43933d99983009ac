"""Company research: fundamentals ratios, the research report (markdown, HTML, PDF) with an
optional guarded LLM narrative, the AI chat, and the demo's fundamentals and fund samples."""
