// Behaviour that would otherwise be inline (the Content-Security-Policy forbids inline script).
"use strict";
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () {
    select.form.submit();
  });
});
