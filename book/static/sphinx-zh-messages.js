/* Sphinx 8.1's search says "Search finished, found N pages ..." with a plural message that its zh_CN catalog
   does not have yet (the catalog still has the older "page(s)" wording), so the Chinese book adds it.
   Documentation.addTranslations merges into the catalog translations.js loaded. */
Documentation.addTranslations({
  locale: "zh_Hans_CN",
  plural_expr: "0",
  messages: {
    "Search finished, found one page matching the search query.": ["搜索完成，匹配到 ${resultCount} 页。"],
  },
});
