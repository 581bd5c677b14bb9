// Stripe's Payment Element on the checkout page. The card fields live in Stripe's frames, so
// card data goes from the browser to Stripe only (PCI SAQ-A); the form then posts the
// PaymentMethod id Stripe made (pm_...), which the server pays with, as the JSON API does.
// On the authentication page, Stripe.js shows the bank's step and comes back to us.
"use strict";
(function () {
  function show(form, message) {
    var box = document.getElementById("stripe-error");
    if (box) { box.textContent = message; box.hidden = false; }
  }

  function checkout(form) {
    var stripe = window.Stripe(form.dataset.stripeKey, { locale: form.dataset.locale });
    var elements = stripe.elements({
      mode: "payment",
      amount: Number(form.dataset.amount),
      currency: form.dataset.currency,
      paymentMethodCreation: "manual",
    });
    elements.create("payment").mount("#payment-element");
    form.addEventListener("submit", function (event) {
      if (form.elements.payment_method.value) { return; }
      event.preventDefault();
      elements.submit().then(function (submitted) {
        if (submitted.error) { throw submitted.error; }
        return stripe.createPaymentMethod({ elements: elements });
      }).then(function (created) {
        if (created.error) { throw created.error; }
        form.elements.payment_method.value = created.paymentMethod.id;
        form.submit();
      }).catch(function (error) { show(form, error.message); });
    });
  }

  function authenticate(box) {
    var stripe = window.Stripe(box.dataset.stripeKey);
    stripe.handleNextAction({ clientSecret: box.dataset.clientSecret }).then(function () {
      window.location.assign(box.dataset.return);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Stripe) { return; }
    var form = document.getElementById("stripe-form");
    if (form) { checkout(form); }
    var box = document.getElementById("stripe-action");
    if (box) { authenticate(box); }
  });
})();
