// What a client uploads for an OpenAI-style batch: one chat completion request per line.
// Shared by the tests that drive batches through the proxy, in workerd and end to end.

export function openAiBatchJsonl(model: string, questions: readonly string[]): string {
  return questions
    .map((question, index) =>
      JSON.stringify({
        custom_id: `request-${index + 1}`,
        method: "POST",
        url: "/v1/chat/completions",
        body: { model, messages: [{ role: "user", content: question }] },
      }),
    )
    .join("\n");
}
