// Behaviour that would otherwise be inline (the Content-Security-Policy forbids inline script).
"use strict";
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () {
    select.form.submit();
  });
});

// Show a group of fields only while another field of its form holds one of the listed values
// (data-show-if-name / data-show-if-values, set by the form's layout). Without JavaScript every
// group shows under its heading, and the server keeps only the chosen kind's fields.
function syncConditionalFields(form) {
  form.querySelectorAll("[data-show-if-name]").forEach(function (group) {
    // A select's value, or a radio group's (RadioNodeList) checked value.
    const control = form.elements.namedItem(group.dataset.showIfName);
    const value = control ? control.value : "";
    const values = group.dataset.showIfValues.split(" ");
    group.hidden = !values.includes(value);
  });
}
document.querySelectorAll("form").forEach(function (form) {
  if (!form.querySelector("[data-show-if-name]")) {
    return;
  }
  form.addEventListener("change", function () {
    syncConditionalFields(form);
  });
  syncConditionalFields(form);
});
