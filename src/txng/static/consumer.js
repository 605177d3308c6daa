// Optional: fill the consent form with a position rounded to 0.01° (about 1 km) and send it.
// The page works without this script: the commune list is a plain form.
(function () {
  var button = document.querySelector("[data-geolocate]");
  if (!button || !navigator.geolocation) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var form = button.form;
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.latitude.value = pos.coords.latitude.toFixed(2);
      form.elements.longitude.value = pos.coords.longitude.toFixed(2);
      form.submit();
    }, function () { button.hidden = true; }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 });
  });
})();
